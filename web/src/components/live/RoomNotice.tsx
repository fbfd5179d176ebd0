import { useEffect } from 'react';
import { useTranslation } from 'react-i18next';
import type { RoomNotice as Notice } from '../../realtime/room';
import { roomErrorText } from './errorText';

/** How long a refused-frame notice stays up. */
const NOTICE_MS = 8_000;

/** A refused frame, above the chat input until dismissed or for a few seconds. */
export function RoomNotice({ notice, onDismiss }: { notice: Notice; onDismiss: () => void }) {
  const { t, i18n } = useTranslation();
  useEffect(() => {
    const timer = setTimeout(onDismiss, NOTICE_MS);
    return () => clearTimeout(timer);
    // One timer per notice (the component is keyed by it).
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);
  return (
    <div className="error-note chat__notice" role="alert" data-testid="room-notice" data-code={notice.code}>
      <span>{roomErrorText(t, notice.code, i18n.language)}</span>
      <button type="button" className="chat__notice-close" onClick={onDismiss} aria-label={t('live.dismiss')}>
        ×
      </button>
    </div>
  );
}
