import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { useMe, useUser } from '../api/auth';
import { useMyChallenges, useWishes } from '../api/challenges';
import { MY_CHALLENGE_STATES, type MyChallengeState } from '../api/types';
import { CalendarFeed } from '../components/CalendarFeed';
import { ChallengeCard } from '../components/ChallengeCard';
import { ChallengeGrid } from '../components/ChallengeGrid';
import { LevelSummary } from '../components/Level';
import { NotificationSettings } from '../components/NotificationSettings';
import { ProfileEditor } from '../components/ProfileEditor';
import { StatsSection } from '../components/StatsSection';
import { EmptyLinkState, EmptyState, ErrorState, LoadingState } from '../components/States';
import { Tabs } from '../components/Tabs';
import { useSearchParamChoice } from '../lib/searchParamChoice';

/** My challenges by state, and my wish list (찜) as the last tab. */
const TABS = [...MY_CHALLENGE_STATES, 'wishes'] as const;
type Tab = (typeof TABS)[number];

export function MePage() {
  const { t } = useTranslation();
  const me = useMe();
  // RequireAuth renders this page only once the user is known.
  if (!me.data) return <LoadingState />;
  const user = me.data;

  return (
    <div className="narrow stack">
      <section>
        <h1 className="page-title">{t('me.title')}</h1>
        <p className="page-lead">
          <Link to={`/users/${user.id}`}>{t('me.publicProfile')}</Link>
        </p>
        <MyLevel userId={user.id} />
        <ProfileEditor key={user.id} user={user} />
      </section>
      <MyChallenges />
      <StatsSection userId={user.id} />

      <CalendarFeed />

      <NotificationSettings />
    </div>
  );
}

/** The level card from my public profile (it carries the score; the session's user does not). */
function MyLevel({ userId }: { userId: number }) {
  const profile = useUser(userId);
  if (!profile.data) return null;
  return <LevelSummary profile={profile.data} />;
}

function MyChallenges() {
  const { t } = useTranslation();
  const tab = useSearchParamChoice<Tab>('tab', TABS, 'active');

  return (
    <section>
      <h2 className="section-title">{t('me.challenges')}</h2>
      <Tabs
        label={t('me.challenges')}
        items={TABS.map((s) => ({ value: s, label: t(`me.tabs.${s}`) }))}
        {...tab}
      />
      {tab.value === 'wishes' ? <WishList /> : <ChallengesIn state={tab.value} />}
    </section>
  );
}

function ChallengesIn({ state }: { state: MyChallengeState }) {
  const { t } = useTranslation();
  const list = useMyChallenges(state);

  let body;
  if (list.isPending) body = <LoadingState />;
  else if (list.isError) body = <ErrorState error={list.error} onRetry={() => void list.refetch()} />;
  else if (list.data.length === 0) body = <EmptyState title={t(`me.empty.${state}`)} />;
  else {
    body = (
      <div className="grid">
        {list.data.map((c) => (
          <ChallengeCard key={c.id} challenge={c} />
        ))}
      </div>
    );
  }

  return body;
}

/** My wish list, newest wish first, loading more as it scrolls into view. */
function WishList() {
  const { t } = useTranslation();
  const list = useWishes();

  if (list.isPending) return <LoadingState />;
  if (!list.data) return <ErrorState error={list.error} onRetry={() => void list.refetch()} />;
  const items = list.data.pages.flatMap((p) => p.items);
  if (items.length === 0) {
    return (
      <EmptyLinkState title={t('me.empty.wishes')} to="/" label={t('me.browse')} />
    );
  }
  return (
    <div data-testid="wish-list">
      <ChallengeGrid items={items} list={list} />
    </div>
  );
}
