import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import type { LeftReason } from '../../realtime/protocol';
import { LockIcon } from './icons';

/** In place of the room once the server took this tab out of it, saying why. */
export function RoomLeft({ challengeId, reason }: { challengeId: number; reason: LeftReason | null }) {
  const { t } = useTranslation();
  return (
    <section className="narrow room-forbidden" data-testid="live-left" data-reason={reason ?? ''}>
      <div className="room-forbidden__icon" aria-hidden="true">
        <LockIcon />
      </div>
      <h1 className="page-title">{t('live.left.title')}</h1>
      <p className="page-lead">{t(`live.left.${reason ?? 'ended'}`)}</p>
      {reason === 'deleted' ? (
        <Link to="/" className="btn btn--primary">
          {t('live.left.home')}
        </Link>
      ) : (
        <Link to={`/challenges/${challengeId}`} className="btn btn--primary">
          {t('live.left.action')}
        </Link>
      )}
    </section>
  );
}
