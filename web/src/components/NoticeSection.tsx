import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { useUpdateNotice } from '../api/challenges';
import type { Challenge } from '../api/types';
import { describedBy } from '../lib/fields';
import { formatDateTime } from '../lib/dates';
import { ErrorNote } from './States';

export const NOTICE_MAX = 1000;

/**
 * The creator's notice on the detail: shown first, for everyone; the creator writes, changes
 * or clears it at any time (also after the start, unlike the rest of the challenge).
 */
export function NoticeSection({ challenge: c, isCreator }: { challenge: Challenge; isCreator: boolean }) {
  const { t, i18n } = useTranslation();
  const [editing, setEditing] = useState(false);

  if (editing) return <NoticeEditor challenge={c} onDone={() => setEditing(false)} />;
  if (!c.notice) {
    if (!isCreator) return null;
    return (
      <div className="notice notice--empty">
        <span className="muted">{t('notice.none')}</span>
        <button type="button" className="btn btn--ghost btn--small" onClick={() => setEditing(true)}>
          {t('notice.write')}
        </button>
      </div>
    );
  }
  return (
    <section className="notice" aria-labelledby={`notice-${c.id}`} data-testid="notice">
      <div className="notice__head">
        <h2 className="notice__title" id={`notice-${c.id}`}>
          <span aria-hidden="true">📢</span> {t('notice.title')}
        </h2>
        {c.noticeUpdatedAt && (
          <time className="notice__time muted" dateTime={c.noticeUpdatedAt}>
            {t('notice.updated', { date: formatDateTime(c.noticeUpdatedAt, i18n.language) })}
          </time>
        )}
        {isCreator && (
          <button type="button" className="btn btn--ghost btn--small notice__edit" onClick={() => setEditing(true)}>
            {t('notice.edit')}
          </button>
        )}
      </div>
      <p className="notice__body">{c.notice}</p>
    </section>
  );
}

function NoticeEditor({ challenge: c, onDone }: { challenge: Challenge; onDone: () => void }) {
  const { t, i18n } = useTranslation();
  const max = NOTICE_MAX.toLocaleString(i18n.language);
  const update = useUpdateNotice(c.id);
  const [text, setText] = useState(c.notice ?? '');
  const length = [...text.trim()].length;
  const tooLong = length > NOTICE_MAX;
  const error = tooLong ? t('validation.maxLength', { max }) : undefined;

  const save = (notice: string | null) => {
    update.mutate(notice && notice.trim() ? notice : null, { onSuccess: onDone });
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!tooLong) save(text);
  };

  return (
    <form className="notice notice--editing" onSubmit={submit} noValidate>
      <label htmlFor="notice-input" className="notice__title">
        <span aria-hidden="true">📢</span> {t('notice.title')}
      </label>
      <textarea
        id="notice-input"
        className="input"
        rows={4}
        value={text}
        placeholder={t('notice.placeholder')}
        onChange={(e) => {
          setText(e.target.value);
          update.reset();
        }}
        aria-invalid={tooLong}
        aria-describedby={describedBy('notice-input', error)}
        autoFocus
      />
      {error ? (
        <p id="notice-input-error" className="field__error" role="alert">
          {error}
        </p>
      ) : (
        <p id="notice-input-hint" className="field__hint">
          {t('notice.hint', { count: length, max })}
        </p>
      )}
      <ErrorNote error={update.error} />
      <div className="notice__actions">
        <button type="submit" className="btn btn--primary btn--small" disabled={tooLong || update.isPending}>
          {t('notice.save')}
        </button>
        <button type="button" className="btn btn--ghost btn--small" onClick={onDone} disabled={update.isPending}>
          {t('common.cancel')}
        </button>
        {c.notice && (
          <button type="button" className="btn btn--ghost btn--small notice__clear" onClick={() => save(null)} disabled={update.isPending}>
            {t('notice.clear')}
          </button>
        )}
      </div>
    </form>
  );
}
