import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router';
import { useMe, useUser } from '../api/auth';
import { isNotFound } from '../api/client';
import { Avatar } from '../components/Avatar';
import { LevelBadge, LevelSummary } from '../components/Level';
import { StatsSection } from '../components/StatsSection';
import { EmptyState, ErrorState, LoadingState } from '../components/States';
import { formatInstant } from '../lib/dates';

export function UserProfilePage() {
  const { t, i18n } = useTranslation();
  const id = Number(useParams().id);
  const valid = Number.isSafeInteger(id) && id > 0;
  const user = useUser(valid ? id : null);
  const me = useMe();

  if (!valid || (user.isError && isNotFound(user.error))) return <EmptyState title={t('profile.notFound')} />;
  if (user.isPending) return <LoadingState />;
  if (user.isError) return <ErrorState error={user.error} onRetry={() => void user.refetch()} />;

  const u = user.data;
  return (
    <div className="narrow stack">
      <div>
        <section className="profile">
          <Avatar user={u} size={88} />
          <div className="profile__text">
            <h1 className="page-title profile__name">
              {u.nickname} <LevelBadge level={u.level} />
            </h1>
            <p className="muted">{t('profile.since', { date: formatInstant(u.createdAt, i18n.language) })}</p>
            {u.bio ? <p className="profile__bio">{u.bio}</p> : <p className="muted">{t('profile.noBio')}</p>}
            {me.data?.id === u.id && (
              <Link to="/me" className="btn btn--ghost btn--small">
                {t('profile.edit')}
              </Link>
            )}
          </div>
        </section>
        <LevelSummary profile={u} />
      </div>
      <StatsSection userId={u.id} />
    </div>
  );
}
