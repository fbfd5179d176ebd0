import { useTranslation } from 'react-i18next';
import { Link, useSearchParams } from 'react-router';
import { useMe } from '../api/auth';
import { useMyChallenges } from '../api/challenges';
import { MY_CHALLENGE_STATES, type MyChallengeState } from '../api/types';
import { ChallengeCard } from '../components/ChallengeCard';
import { ProfileEditor } from '../components/ProfileEditor';
import { StatsSection } from '../components/StatsSection';
import { EmptyState, ErrorState, LoadingState } from '../components/States';
import { Tabs } from '../components/Tabs';

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
        <ProfileEditor key={user.id} user={user} />
      </section>
      <MyChallenges />
      <StatsSection userId={user.id} />
    </div>
  );
}

function MyChallenges() {
  const { t } = useTranslation();
  const [params, setParams] = useSearchParams();
  const raw = params.get('tab');
  const state: MyChallengeState = MY_CHALLENGE_STATES.includes(raw as MyChallengeState) ? (raw as MyChallengeState) : 'active';
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

  return (
    <section>
      <h2 className="section-title">{t('me.challenges')}</h2>
      <Tabs
        label={t('me.challenges')}
        items={MY_CHALLENGE_STATES.map((s) => ({ value: s, label: t(`me.tabs.${s}`) }))}
        value={state}
        onChange={(s) => setParams(s === 'active' ? {} : { tab: s }, { replace: true })}
      />
      {body}
    </section>
  );
}
