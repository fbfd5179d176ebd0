import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { LockIcon } from './icons';

/** In place of the room for someone who holds no place in the challenge (or lost it). */
export function NotParticipant({ challengeId }: { challengeId: number }) {
  const { t } = useTranslation();
  return (
    <section className="narrow room-forbidden" data-testid="live-forbidden">
      <div className="room-forbidden__icon" aria-hidden="true">
        <LockIcon />
      </div>
      <h1 className="page-title">{t('live.forbidden.title')}</h1>
      <p className="page-lead">{t('live.forbidden.lead')}</p>
      <Link to={`/challenges/${challengeId}`} className="btn btn--primary">
        {t('live.forbidden.action')}
      </Link>
    </section>
  );
}
