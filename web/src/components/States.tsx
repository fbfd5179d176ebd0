import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { errorText } from '../api/client';

export function Spinner({ label }: { label?: string }) {
  const { t } = useTranslation();
  return <span className="spinner" role="status" aria-label={label ?? t('common.loading')} />;
}

export function LoadingState() {
  return (
    <div className="state">
      <Spinner />
    </div>
  );
}

export function EmptyState({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="state state--empty">
      <p className="state__title">{title}</p>
      {children}
    </div>
  );
}

/** An empty state with one way on: a button-styled link (`primary` for the main action). */
export function EmptyLinkState({
  title,
  to,
  label,
  primary = false,
}: {
  title: string;
  to: string;
  label: string;
  primary?: boolean;
}) {
  return (
    <EmptyState title={title}>
      <Link to={to} className={primary ? 'btn btn--primary' : 'btn btn--ghost'}>
        {label}
      </Link>
    </EmptyState>
  );
}

export function ErrorState({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  const { t } = useTranslation();
  return (
    <div className="state state--error" role="alert">
      <p className="state__title">{errorText(error)}</p>
      {onRetry && (
        <button type="button" className="btn btn--ghost" onClick={onRetry}>
          {t('common.retry')}
        </button>
      )}
    </div>
  );
}

/** An inline error line under a form or button, from the server's `message`. */
export function ErrorNote({ error }: { error: unknown }) {
  if (!error) return null;
  return (
    <p className="error-note" role="alert">
      {errorText(error)}
    </p>
  );
}
