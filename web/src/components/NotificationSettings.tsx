import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, ApiError } from '../api/client';
import { notificationKeys, type NotificationKind, type SettableKind } from '../api/notifications';
import { currentSubscription, disablePush, enablePush, pushSupported } from '../lib/push';

interface Settings {
  kinds: NotificationKind[];
  minutesBefore: number;
  quietStart: string | null;
  quietEnd: string | null;
  timezone: string | null;
}

const KINDS: SettableKind[] = [
  'SESSION_REMINDER',
  'SESSION_ACHIEVED',
  'CHALLENGE_COMPLETED',
  'CHALLENGE_FAILED',
  'RANK_UP',
  'NOTICE_CHANGED',
  'NEW_MEMBER',
];

/** My page: which notifications, how long before a session, quiet hours, and push here. */
export function NotificationSettings() {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const stored = useQuery({
    queryKey: notificationKeys.settings,
    queryFn: ({ signal }) => api<Settings>('/api/me/notification-settings', { signal }),
  });
  // Edits on top of what is stored; until the first edit, the stored settings themselves.
  const [edited, setDraft] = useState<Settings | null>(null);
  const draft = edited ?? stored.data ?? null;
  const [pushOn, setPushOn] = useState<boolean | null>(null);
  useEffect(() => {
    void currentSubscription().then((s) => setPushOn(s !== null));
  }, []);
  const save = useMutation({
    mutationFn: (settings: Settings) => api<Settings>('/api/me/notification-settings', { method: 'PUT', body: settings }),
    onSuccess: (data) => queryClient.setQueryData(notificationKeys.settings, data),
  });
  const push = useMutation({
    mutationFn: async (on: boolean) => {
      if (on) return enablePush();
      await disablePush();
      return false;
    },
    onSuccess: (on) => setPushOn(on),
  });

  if (!draft) return null;
  const toggle = (kind: NotificationKind) =>
    setDraft({ ...draft, kinds: draft.kinds.includes(kind) ? draft.kinds.filter((k) => k !== kind) : [...draft.kinds, kind] });
  const quiet = draft.quietStart !== null;
  const error = save.error instanceof ApiError ? save.error.message : push.error instanceof ApiError ? push.error.message : null;

  return (
    <section className="notification-settings">
      <h2 className="section-title">{t('notifications.settings.title')}</h2>
      {pushSupported() && (
        <p>
          <button
            type="button"
            className="btn btn--small"
            onClick={() => push.mutate(!pushOn)}
            disabled={push.isPending || pushOn === null}
            data-testid="push-toggle"
          >
            {pushOn ? t('notifications.settings.pushOff') : t('notifications.settings.pushOn')}
          </button>
        </p>
      )}
      <fieldset className="notification-settings__kinds">
        <legend>{t('notifications.settings.kinds')}</legend>
        {KINDS.map((kind) => (
          <label key={kind}>
            <input type="checkbox" checked={draft.kinds.includes(kind)} onChange={() => toggle(kind)} />{' '}
            {t(`notifications.settings.kind.${kind}`)}
          </label>
        ))}
      </fieldset>
      <label>
        {t('notifications.settings.minutesBefore')}{' '}
        <input
          className="input input--small"
          type="number"
          min={1}
          max={120}
          value={draft.minutesBefore}
          onChange={(e) => setDraft({ ...draft, minutesBefore: Number(e.target.value) })}
        />
      </label>
      <label>
        <input
          type="checkbox"
          checked={quiet}
          onChange={() =>
            setDraft(quiet ? { ...draft, quietStart: null, quietEnd: null } : { ...draft, quietStart: '23:00', quietEnd: '07:00' })
          }
        />{' '}
        {t('notifications.settings.quiet')}
      </label>
      {quiet && (
        <div className="calendar-feed__row">
          <input
            className="input input--small"
            type="time"
            value={draft.quietStart ?? ''}
            onChange={(e) => setDraft({ ...draft, quietStart: e.target.value })}
            aria-label={t('notifications.settings.quietStart')}
          />
          <span>–</span>
          <input
            className="input input--small"
            type="time"
            value={draft.quietEnd ?? ''}
            onChange={(e) => setDraft({ ...draft, quietEnd: e.target.value })}
            aria-label={t('notifications.settings.quietEnd')}
          />
        </div>
      )}
      <p className="page-lead">{t('notifications.settings.quietHint')}</p>
      {error && <p className="field__error">{error}</p>}
      <button type="button" className="btn btn--primary btn--small" onClick={() => save.mutate(draft)} disabled={save.isPending}>
        {save.isSuccess ? t('notifications.settings.saved') : t('notifications.settings.save')}
      </button>
    </section>
  );
}
