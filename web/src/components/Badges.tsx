import { useTranslation } from 'react-i18next';
import type { Category, ChallengeStatus, ParticipantStatus } from '../api/types';
import { CATEGORY_ICONS } from '../lib/categories';

export function CategoryBadge({ category }: { category: Category }) {
  const { t } = useTranslation();
  return (
    <span className={`badge badge--category badge--${category.toLowerCase()}`}>
      <span aria-hidden="true">{CATEGORY_ICONS[category]}</span> {t(`category.${category}`)}
    </span>
  );
}

export function StatusBadge({ status }: { status: ChallengeStatus }) {
  const { t } = useTranslation();
  return <span className={`badge badge--status badge--${status.toLowerCase()}`}>{t(`status.${status}`)}</span>;
}

export function ParticipantStatusBadge({ status }: { status: ParticipantStatus }) {
  const { t } = useTranslation();
  return (
    <span className={`badge badge--participant badge--${status.toLowerCase()}`}>{t(`participantStatus.${status}`)}</span>
  );
}
