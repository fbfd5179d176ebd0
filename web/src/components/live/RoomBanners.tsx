import { useTranslation } from 'react-i18next';

/** The server paused live features (`SERVICE_UNAVAILABLE`); the room retries by itself. */
export function PausedBanner({ onRetry }: { onRetry: () => void }) {
  const { t } = useTranslation();
  return (
    <div className="room__banner room__banner--paused" role="status" data-testid="room-unavailable">
      <span>{t('live.errors.codes.SERVICE_UNAVAILABLE')}</span>
      <button type="button" className="btn btn--ghost btn--small" onClick={onRetry}>
        {t('live.retryNow')}
      </button>
    </div>
  );
}

/** The socket dropped and is backing off before the next attempt. */
export function ReconnectingBanner({ onReconnect }: { onReconnect: () => void }) {
  const { t } = useTranslation();
  return (
    <div className="room__banner" role="status">
      <span>{t('live.reconnectingNote')}</span>
      <button type="button" className="btn btn--ghost btn--small" onClick={onReconnect}>
        {t('live.reconnectNow')}
      </button>
    </div>
  );
}

/** The server refused this tab's socket: too many open for the user or from the network. */
export function TooManySocketsBanner({ onRetry }: { onRetry: () => void }) {
  const { t } = useTranslation();
  return (
    <div className="room__banner room__banner--paused" role="alert" data-testid="too-many-sockets">
      <span>{t('live.tooManySocketsNote')}</span>
      <button type="button" className="btn btn--ghost btn--small" onClick={onRetry}>
        {t('live.retryNow')}
      </button>
    </div>
  );
}
