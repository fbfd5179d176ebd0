import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router';
import { useChallenge } from '../api/challenges';
import { ErrorState, LoadingState } from '../components/States';

/**
 * The live room of one challenge (PRODUCT.md §4–§5): video grid, camera/mic toggles, chat and
 * today's on-camera timer over the WebSocket at /api/ws. For now it shows the challenge and says
 * the room is on its way; the real room replaces the body of this component.
 */
export function LiveRoomPage() {
  const { t } = useTranslation();
  const id = Number(useParams().id);
  const challenge = useChallenge(id);

  if (challenge.isPending) return <LoadingState />;
  if (challenge.isError) return <ErrorState error={challenge.error} onRetry={() => void challenge.refetch()} />;

  return (
    <section className="narrow live">
      <h1 className="page-title">{challenge.data.title}</h1>
      <p className="live__note">{t('live.building')}</p>
      <Link to={`/challenges/${id}`} className="btn btn--ghost">
        {t('form.backToChallenge')}
      </Link>
    </section>
  );
}
