import { useCallback, useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';

/**
 * Everyone's sound, one hidden <audio> per member who sends it (on every page of the grid, not
 * only the one shown). When the browser's autoplay policy refuses sound before any click, one
 * button turns it on.
 */
export function RoomAudio({ audios }: { audios: readonly { userId: number; stream: MediaStream }[] }) {
  const { t } = useTranslation();
  const [blocked, setBlocked] = useState(false);
  const [attempt, setAttempt] = useState(0);
  const onBlocked = useCallback(() => setBlocked(true), []);
  return (
    <>
      {audios.map(({ userId, stream }) => (
        <MemberAudio key={userId} userId={userId} stream={stream} attempt={attempt} onBlocked={onBlocked} />
      ))}
      {blocked && audios.length > 0 && (
        <button
          type="button"
          className="btn btn--small btn--ghost room__unmute"
          onClick={() => {
            setBlocked(false);
            setAttempt((n) => n + 1);
          }}
        >
          🔈 {t('live.unmute')}
        </button>
      )}
    </>
  );
}

function MemberAudio({ userId, stream, attempt, onBlocked }: { userId: number; stream: MediaStream; attempt: number; onBlocked: () => void }) {
  const ref = useRef<HTMLAudioElement>(null);
  useEffect(() => {
    const audio = ref.current;
    if (!audio) return;
    if (audio.srcObject !== stream) audio.srcObject = stream;
    audio.play().catch((err: unknown) => {
      if (err instanceof DOMException && err.name === 'NotAllowedError') onBlocked();
    });
  }, [stream, attempt, onBlocked]);
  return <audio ref={ref} autoPlay data-user-id={userId} data-testid="remote-audio" />;
}
