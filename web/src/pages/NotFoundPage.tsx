import { useTranslation } from 'react-i18next';
import { EmptyLinkState } from '../components/States';

export function NotFoundPage() {
  const { t } = useTranslation();
  return (
    <EmptyLinkState title={t('notFound.title')} to="/" label={t('notFound.home')} />
  );
}
