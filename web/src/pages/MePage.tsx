import { useTranslation } from 'react-i18next';
import { Link, useSearchParams } from 'react-router';
import { useMe, useUser } from '../api/auth';
import { useMyChallenges, useWishes } from '../api/challenges';
import { MY_CHALLENGE_STATES, type MyChallengeState } from '../api/types';
import { ChallengeCard } from '../components/ChallengeCard';
import { InfiniteSentinel } from '../components/InfiniteSentinel';
import { LevelSummary } from '../components/Level';
import { ProfileEditor } from '../components/ProfileEditor';
import { StatsSection } from '../components/StatsSection';
import { EmptyState, ErrorState, LoadingState, Spinner } from '../components/States';
import { Tabs } from '../components/Tabs';

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
  const [params, setParams] = useSearchParams();
  const raw = params.get('tab');
  const tab: Tab = TABS.includes(raw as Tab) ? (raw as Tab) : 'active';

  return (
    <section>
      <h2 className="section-title">{t('me.challenges')}</h2>
      <Tabs
        label={t('me.challenges')}
        items={TABS.map((s) => ({ value: s, label: t(`me.tabs.${s}`) }))}
        value={tab}
        onChange={(s) => setParams(s === 'active' ? {} : { tab: s }, { replace: true })}
      />
      {tab === 'wishes' ? <WishList /> : <ChallengesIn state={tab} />}
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
      <EmptyState title={t('me.empty.wishes')}>
        <Link to="/" className="btn btn--ghost">
          {t('me.browse')}
        </Link>
      </EmptyState>
    );
  }
  return (
    <div data-testid="wish-list">
      <div className="grid">
        {items.map((c) => (
          <ChallengeCard key={c.id} challenge={c} />
        ))}
      </div>
      <InfiniteSentinel
        disabled={!list.hasNextPage || list.isFetchingNextPage || list.isFetchNextPageError}
        onVisible={() => void list.fetchNextPage()}
      />
      {(list.isFetchingNextPage || list.isFetchNextPageError || list.hasNextPage) && (
        <div className="list-end">
          {list.isFetchingNextPage ? (
            <Spinner />
          ) : list.isFetchNextPageError ? (
            <ErrorState error={list.error} onRetry={() => void list.fetchNextPage()} />
          ) : (
            <button type="button" className="btn btn--ghost" onClick={() => void list.fetchNextPage()}>
              {t('list.more')}
            </button>
          )}
        </div>
      )}
    </div>
  );
}
