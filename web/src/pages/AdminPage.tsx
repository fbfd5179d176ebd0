import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { isApiError } from '../api/client';
import { type Decision, type QueuedReport, useAuditLog, useDecide, useReportQueue } from '../api/admin';
import { EmptyState, ErrorNote, ErrorState, LoadingState } from '../components/States';

const DECISIONS: Decision[] = ['dismiss', 'warn', 'suspend', 'deleteChallenge'];

/** The operators' page: the open reports with their context, a decision each, the audit log. */
export function AdminPage() {
  const { t } = useTranslation();
  const queue = useReportQueue();
  const audit = useAuditLog(queue.isSuccess);
  if (queue.isPending) return <LoadingState />;
  if (isApiError(queue.error, 'OPERATOR_ONLY')) {
    return <EmptyState title={t('admin.operatorsOnly')} />;
  }
  if (queue.isError) return <ErrorState error={queue.error} onRetry={() => void queue.refetch()} />;
  return (
    <section className="admin">
      <h1 className="page-title">{t('admin.title')}</h1>
      <h2>{t('admin.queue')}</h2>
      {queue.data.items.length === 0 ? (
        <p>{t('admin.empty')}</p>
      ) : (
        <ul className="admin__reports">
          {queue.data.items.map((r) => (
            <ReportItem key={r.id} report={r} />
          ))}
        </ul>
      )}
      <h2>{t('admin.audit')}</h2>
      <ul className="admin__audit">
        {(audit.data?.items ?? []).map((e) => (
          <li key={e.id}>
            <time dateTime={e.createdAt}>{new Date(e.createdAt).toLocaleString()}</time> · {e.action} · {e.target} ·{' '}
            {e.actorId === null ? t('admin.cli') : `#${e.actorId}`} · {e.reason}
          </li>
        ))}
      </ul>
    </section>
  );
}

function ReportItem({ report }: { report: QueuedReport }) {
  const { t } = useTranslation();
  const decide = useDecide();
  const [action, setAction] = useState<Decision>('dismiss');
  const [reason, setReason] = useState('');
  const [days, setDays] = useState('');
  const submit = (e: React.FormEvent) => {
    e.preventDefault();
    decide.mutate({ report: report.id, action, reason, days: action === 'suspend' && days !== '' ? Number(days) : null });
  };
  return (
    <li className="admin__report" data-report-id={report.id}>
      <p>
        <strong>{t(`admin.target.${report.targetType}`)}</strong> · {t(`admin.reason.${report.reason}`, report.reason)} ·{' '}
        {t('admin.subject', { id: report.subjectId ?? '-' })}
      </p>
      {report.detail && <p className="admin__detail">{report.detail}</p>}
      {report.context.length > 0 && (
        <ol className="admin__context">
          {report.context.map((m) => (
            <li key={m.id} className={m.id === report.messageId ? 'admin__context--target' : undefined}>
              <span>{m.nickname}</span>: {m.deleted ? t('live.chat.deleted') : m.body}
            </li>
          ))}
        </ol>
      )}
      <form onSubmit={submit} className="admin__decide">
        <select value={action} onChange={(e) => setAction(e.target.value as Decision)} aria-label={t('admin.action')}>
          {DECISIONS.map((d) => (
            <option key={d} value={d}>
              {t(`admin.decision.${d}`)}
            </option>
          ))}
        </select>
        {action === 'suspend' && (
          <input type="number" min={1} max={3650} value={days} onChange={(e) => setDays(e.target.value)} placeholder={t('admin.days')} aria-label={t('admin.days')} />
        )}
        <input value={reason} onChange={(e) => setReason(e.target.value)} maxLength={1000} required placeholder={t('admin.why')} aria-label={t('admin.why')} />
        <button type="submit" className="btn" disabled={decide.isPending}>
          {t('admin.submit')}
        </button>
        {decide.isError && <ErrorNote error={decide.error} />}
      </form>
    </li>
  );
}
