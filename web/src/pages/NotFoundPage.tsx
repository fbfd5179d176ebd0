import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { EmptyState } from '../components/States';

export function NotFoundPage() {
  const { t } = useTranslation();
  return (
    <EmptyState title={t('notFound.title')}>
      <Link to="/" className="btn btn--ghost">
        {t('notFound.home')}
      </Link>
    </EmptyState>
  );
}
