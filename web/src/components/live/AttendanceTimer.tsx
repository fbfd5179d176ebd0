import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { Attendance } from '../../realtime/room';

/** The server counts at least every 10 s while time accrues; never run ahead of it by more. */
const MAX_LOCAL_AHEAD_S = 10;

function formatDuration(totalSeconds: number): string {
  const s = Math.max(0, Math.floor(totalSeconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const two = (n: number) => String(n).padStart(2, '0');
  return h > 0 ? `${h}:${two(m)}:${two(sec)}` : `${two(m)}:${two(sec)}`;
}

/**
 * Today's on-camera time from the server's `attendance` frames. Between frames, while the
 * server's count is going up and the camera is on, the display ticks on locally.
 */
export function AttendanceTimer({
  attendance,
  cameraOn,
  live,
  fallbackRequired,
  countingElsewhere = false,
}: {
  attendance: Attendance | null;
  cameraOn: boolean;
  live: boolean;
  fallbackRequired: number;
  /** The user's attendance counts in another room now, not in this one. */
  countingElsewhere?: boolean;
}) {
  const { t } = useTranslation();
  const ticking = Boolean(attendance?.accruing) && cameraOn && live && !countingElsewhere;
  const [now, setNow] = useState(() => performance.now());

  useEffect(() => {
    if (!ticking) return;
    const timer = setInterval(() => setNow(performance.now()), 1000);
    return () => clearInterval(timer);
  }, [ticking]);

  if (!attendance) {
    return (
      <div className="timer" data-testid="attendance">
        <span className="timer__label">{t('live.timer.title')}</span>
        <span className="muted timer__hint">{t('live.timer.waiting')}</span>
      </div>
    );
  }

  const ahead = ticking ? Math.min(MAX_LOCAL_AHEAD_S, Math.max(0, (now - attendance.receivedAt) / 1000)) : 0;
  const seconds = attendance.seconds + ahead;
  const required = attendance.requiredSeconds ?? fallbackRequired;
  const percent = required > 0 ? Math.min(100, (seconds / required) * 100) : 0;

  return (
    <div className={attendance.achieved ? 'timer timer--achieved' : 'timer'} data-testid="attendance">
      <div className="timer__head">
        <span className="timer__label">{t('live.timer.title')}</span>
        {attendance.achieved && (
          <span className="badge badge--completed timer__badge" data-testid="achieved">
            ✓ {t('live.timer.achieved')}
          </span>
        )}
      </div>
      <div className="timer__value">
        <strong className="timer__time" data-testid="attendance-seconds" data-seconds={Math.floor(seconds)}>
          <time dateTime={`PT${Math.floor(seconds)}S`}>{formatDuration(seconds)}</time>
        </strong>
        <span className="muted timer__goal">{t('live.timer.goal', { time: formatDuration(required) })}</span>
      </div>
      <div
        className="progress timer__progress"
        role="progressbar"
        aria-valuemin={0}
        aria-valuemax={required}
        aria-valuenow={Math.floor(Math.min(seconds, required))}
        aria-label={t('live.timer.title')}
      >
        <div className="progress__fill" style={{ width: `${percent}%` }} />
      </div>
      {countingElsewhere && (
        <span className="muted timer__hint" role="status" data-testid="attendance-elsewhere">
          {t('live.timer.elsewhere')}
        </span>
      )}
      {!attendance.achieved && !cameraOn && !countingElsewhere && <span className="muted timer__hint">{t('live.timer.cameraHint')}</span>}
    </div>
  );
}
