import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useCalendarUrl, useResetCalendar } from '../api/notifications';

/** My page: the secret calendar feed address, to copy or add to Google or Apple Calendar. */
export function CalendarFeed() {
  const { t } = useTranslation();
  const feed = useCalendarUrl();
  const reset = useResetCalendar();
  const [copied, setCopied] = useState(false);
  const url = feed.data?.url;

  const copy = () => {
    if (!url) return;
    void navigator.clipboard?.writeText(url).then(() => setCopied(true));
  };
  const onReset = () => {
    if (window.confirm(t('calendar.resetConfirm'))) {
      setCopied(false);
      reset.mutate();
    }
  };
  // Calendar apps subscribe with webcal://; Google takes the address in its "cid" parameter.
  const webcal = url?.replace(/^https?:/, 'webcal:');
  const google = webcal ? `https://calendar.google.com/calendar/r?cid=${encodeURIComponent(webcal)}` : undefined;

  return (
    <section className="calendar-feed">
      <h2 className="section-title">{t('calendar.title')}</h2>
      <p className="page-lead">{t('calendar.lead')}</p>
      {url ? (
        <>
          <div className="calendar-feed__row">
            <input className="input" readOnly value={url} aria-label={t('calendar.url')} data-testid="calendar-url" />
            <button type="button" className="btn btn--small" onClick={copy}>
              {copied ? t('calendar.copied') : t('calendar.copy')}
            </button>
          </div>
          <div className="calendar-feed__row">
            <a className="btn btn--ghost btn--small" href={google} target="_blank" rel="noreferrer">
              {t('calendar.google')}
            </a>
            <a className="btn btn--ghost btn--small" href={webcal}>
              {t('calendar.apple')}
            </a>
            <button type="button" className="btn btn--ghost btn--small" onClick={onReset} disabled={reset.isPending}>
              {t('calendar.reset')}
            </button>
          </div>
        </>
      ) : (
        <p>{t('common.loading')}</p>
      )}
    </section>
  );
}
