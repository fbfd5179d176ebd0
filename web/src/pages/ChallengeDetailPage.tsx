import { useTranslation } from 'react-i18next';
import { useLocation, useNavigate, useParams } from 'react-router';
import { ChallengeDetail } from '../components/ChallengeDetail';
import { Modal } from '../components/Modal';
import { backgroundOf } from '../lib/background';
import { NotFoundPage } from './NotFoundPage';

function useChallengeId(): number | null {
  const { id } = useParams();
  const n = Number(id);
  return Number.isSafeInteger(n) && n > 0 ? n : null;
}

/** `/challenges/:id` opened directly. */
export function ChallengePage() {
  const id = useChallengeId();
  const navigate = useNavigate();
  if (id === null) return <NotFoundPage />;
  return (
    <div className="narrow">
      <ChallengeDetail id={id} onDeleted={() => void navigate('/', { replace: true })} />
    </div>
  );
}

/** `/challenges/:id` opened from a list: shown over it, closing goes back to it. */
export function ChallengeModal() {
  const { t } = useTranslation();
  const id = useChallengeId();
  const navigate = useNavigate();
  const location = useLocation();
  const background = backgroundOf(location);

  const close = () => {
    // After a reload the history may not hold the list behind us; go to it explicitly then.
    if (location.key !== 'default') void navigate(-1);
    else void navigate(background ?? '/', { replace: true });
  };

  return (
    <Modal label={t('detail.dialogLabel')} onClose={close}>
      {id === null ? (
        <NotFoundPage />
      ) : (
        <ChallengeDetail id={id} onDeleted={() => void navigate(background ?? '/', { replace: true })} />
      )}
    </Modal>
  );
}
