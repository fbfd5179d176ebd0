import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { useParticipants } from '../api/challenges';
import type { Challenge } from '../api/types';
import { Avatar } from './Avatar';
import { ParticipantStatusBadge } from './Badges';
import { ProgressBar } from './ProgressBar';
import { EmptyState, ErrorState, LoadingState } from './States';

export function ParticipantList({ challenge, meId }: { challenge: Challenge; meId: number | null }) {
  const { t } = useTranslation();
  const participants = useParticipants(challenge.id);

  if (participants.isPending) return <LoadingState />;
  if (participants.isError) {
    return <ErrorState error={participants.error} onRetry={() => void participants.refetch()} />;
  }
  if (participants.data.length === 0) return <EmptyState title={t('detail.noParticipants')} />;

  return (
    <ul className="participants">
      {participants.data.map((p) => {
        const rate = p.scheduledSessions > 0 ? Math.round((p.achievedSessions / p.scheduledSessions) * 100) : 0;
        return (
          <li key={p.user.id} className={p.user.id === meId ? 'participant participant--me' : 'participant'}>
            <Link to={`/users/${p.user.id}`} className="participant__user">
              <Avatar user={p.user} size={36} />
              <span className="participant__name">{p.user.nickname}</span>
              {p.user.id === challenge.creator.id && <span className="badge badge--creator">{t('detail.creator')}</span>}
              {p.user.id === meId && <span className="badge badge--me">{t('common.me')}</span>}
            </Link>
            <div className="participant__progress">
              <ProgressBar
                value={p.achievedSessions}
                max={p.scheduledSessions}
                targetPercent={challenge.successRate}
                label={t('detail.progressLabel', { nickname: p.user.nickname })}
              />
              <span className="participant__numbers">
                {t('detail.sessions', { achieved: p.achievedSessions, scheduled: p.scheduledSessions })}
                {p.scheduledSessions > 0 && ` · ${rate}%`}
              </span>
              {p.status !== 'ACTIVE' && <ParticipantStatusBadge status={p.status} />}
            </div>
          </li>
        );
      })}
    </ul>
  );
}
