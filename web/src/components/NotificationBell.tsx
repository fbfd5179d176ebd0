import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import {
  useLiveNotifications,
  useMarkRead,
  useNotifications,
  type AppNotification,
} from '../api/notifications';

/** The bell in the navigation bar: the unread count (live), and the latest notifications. */
export function NotificationBell() {
  const { t } = useTranslation();
  const [open, setOpen] = useState(false);
  const list = useNotifications(true);
  useLiveNotifications(true);
  const markRead = useMarkRead();
  const unread = list.data?.unreadCount ?? 0;
  const items = list.data?.items ?? [];
  const notificationText = (n: AppNotification) =>
    t(`notifications.kinds.${n.kind}`, {
      minutes: n.data.minutes ?? 0,
      rank: n.data.rank ?? 0,
      nickname: n.data.nickname ?? '',
      reason: n.data.reason ?? '',
    });

  const readAll = () => {
    const newest = items[0];
    if (newest) markRead.mutate(newest.id);
  };

  return (
    <div className="bell">
      <button
        type="button"
        className="btn btn--ghost btn--small bell__button"
        aria-label={t('notifications.bell', { count: unread })}
        aria-expanded={open}
        onClick={() => setOpen((o) => !o)}
        data-testid="bell"
      >
        <svg className="bell__icon" viewBox="0 0 24 24" width="20" height="20" aria-hidden="true">
          <path
            d="M12 3a6 6 0 0 0-6 6v3.6L4.3 15.3A1 1 0 0 0 5.1 17h13.8a1 1 0 0 0 .8-1.7L18 12.6V9a6 6 0 0 0-6-6Zm0 19a3 3 0 0 0 2.8-2H9.2A3 3 0 0 0 12 22Z"
            fill="currentColor"
          />
        </svg>
        {unread > 0 && (
          <span className="bell__count" data-testid="bell-count">
            {unread > 99 ? '99+' : unread}
          </span>
        )}
      </button>
      {open && (
        <div className="bell__panel" role="dialog" aria-label={t('notifications.title')}>
          <div className="bell__head">
            <strong>{t('notifications.title')}</strong>
            <button type="button" className="btn btn--ghost btn--small" onClick={readAll} disabled={unread === 0}>
              {t('notifications.readAll')}
            </button>
          </div>
          {items.length === 0 ? (
            <p className="bell__empty">{t('notifications.empty')}</p>
          ) : (
            <ul className="bell__list">
              {items.map((n) => (
                <li key={n.id} className={n.read ? 'bell__item' : 'bell__item bell__item--unread'}>
                  {n.challengeId !== null ? (
                    <Link
                      to={n.kind === 'SESSION_REMINDER' ? `/challenges/${n.challengeId}/live` : `/challenges/${n.challengeId}`}
                      onClick={() => setOpen(false)}
                    >
                      <span className="bell__title">{n.data.challengeTitle}</span>
                      <span>{notificationText(n)}</span>
                    </Link>
                  ) : (
                    <Link to="/rankings" onClick={() => setOpen(false)}>
                      <span>{notificationText(n)}</span>
                    </Link>
                  )}
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
    </div>
  );
}
