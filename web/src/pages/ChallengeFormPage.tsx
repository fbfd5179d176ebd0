import { useTranslation } from 'react-i18next';
import { useNavigate, useParams } from 'react-router';
import { useMe } from '../api/auth';
import { useChallenge, useCreateChallenge, useUpdateChallenge } from '../api/challenges';
import { ChallengeForm } from '../components/ChallengeForm';
import { EmptyLinkState, ErrorState, LoadingState } from '../components/States';
import { emptyForm, formFromChallenge } from '../lib/challengeForm';

export function CreateChallengePage() {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const create = useCreateChallenge();

  return (
    <section className="narrow">
      <h1 className="page-title">{t('form.createTitle')}</h1>
      <p className="page-lead">{t('form.createLead')}</p>
      <ChallengeForm
        initial={emptyForm()}
        submitLabel={t('form.createSubmit')}
        pending={create.isPending}
        onSubmit={(input, onError) =>
          create.mutate(input, {
            onSuccess: (challenge) => void navigate(`/challenges/${challenge.id}`, { replace: true }),
            onError,
          })
        }
      />
    </section>
  );
}

export function EditChallengePage() {
  const { t } = useTranslation();
  const id = Number(useParams().id);
  const navigate = useNavigate();
  const me = useMe();
  const challenge = useChallenge(id);
  const update = useUpdateChallenge(id);

  if (challenge.isPending) return <LoadingState />;
  if (challenge.isError) return <ErrorState error={challenge.error} onRetry={() => void challenge.refetch()} />;

  const c = challenge.data;
  if (me.data?.id !== c.creator.id || c.status !== 'RECRUITING') {
    return (
      <EmptyLinkState title={t('form.cannotEdit')} to={`/challenges/${c.id}`} label={t('form.backToChallenge')} />
    );
  }

  return (
    <section className="narrow">
      <h1 className="page-title">{t('form.editTitle')}</h1>
      <ChallengeForm
        key={c.id}
        initial={formFromChallenge(c)}
        submitLabel={t('form.editSubmit')}
        pending={update.isPending}
        onSubmit={(input, onError) =>
          update.mutate(input, {
            onSuccess: () => void navigate(`/challenges/${c.id}`, { replace: true }),
            onError,
          })
        }
      />
    </section>
  );
}
