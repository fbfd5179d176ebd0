import { useEffect, useLayoutEffect, useMemo, useRef, useState, useSyncExternalStore } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import type { TFunction } from 'i18next';
import { Link, useNavigate, useParams } from 'react-router';
import { useMe } from '../api/auth';
import { useChallenge } from '../api/challenges';
import { isNotFound } from '../api/client';
import { keys } from '../api/keys';
import type { Challenge, User } from '../api/types';
import { AttendanceTimer } from '../components/live/AttendanceTimer';
import { ChatPanel } from '../components/live/ChatPanel';
import { MicOffIcon, VideoTile } from '../components/live/VideoTile';
import { EmptyState, ErrorState, LoadingState } from '../components/States';
import { LiveRoom, type RoomNotice, type RoomSnapshot } from '../realtime/room';
import type { ConnectionState } from '../realtime/socket';
import { realtime } from '../realtime/socket';
import { NotFoundPage } from './NotFoundPage';

/** How long a refused-frame notice stays up. */
const NOTICE_MS = 8_000;
const PROTOCOL_CODES = new Set(['MALFORMED_JSON', 'MISSING_TYPE', 'UNKNOWN_TYPE', 'INVALID_FRAME', 'UNSUPPORTED_FRAME']);

/** The server's error codes in the reader's language (the socket's own messages are Korean only). */
function errorText(t: TFunction, code: string): string {
  switch (code) {
    case 'FORBIDDEN':
    case 'RATE_LIMITED':
    case 'VALIDATION_FAILED':
    case 'FRAME_TOO_LARGE':
    case 'TIMEOUT':
    case 'SERVICE_UNAVAILABLE':
      return t(`live.errors.${code}`);
    default:
      return PROTOCOL_CODES.has(code) ? t('live.errors.protocol', { code }) : t('live.errors.unknown', { code });
  }
}

/**
 * `/challenges/:id/live`: the challenge's live room (PRODUCT.md §4–§5). Loaded as its own chunk:
 * the WebSocket client, the WebRTC mesh and the room UI are only fetched by people who enter.
 */
export default function LiveRoomPage() {
  const { t } = useTranslation();
  const raw = Number(useParams().id);
  const id = Number.isSafeInteger(raw) && raw > 0 ? raw : null;
  const me = useMe();
  const challenge = useChallenge(id ?? 0);

  if (id === null) return <NotFoundPage />;
  if (challenge.isPending || !me.data) return <LoadingState />;
  if (challenge.isError) {
    return isNotFound(challenge.error) ? (
      <EmptyState title={t('live.notFound')}>
        <Link to="/" className="btn btn--ghost">
          {t('detail.backToList')}
        </Link>
      </EmptyState>
    ) : (
      <ErrorState error={challenge.error} onRetry={() => void challenge.refetch()} />
    );
  }
  if (!challenge.data.joined) return <NotParticipant challengeId={id} />;
  return <Room key={`${id}:${me.data.id}`} challenge={challenge.data} me={me.data} />;
}

function NotParticipant({ challengeId }: { challengeId: number }) {
  const { t } = useTranslation();
  return (
    <section className="narrow room-forbidden" data-testid="live-forbidden">
      <div className="room-forbidden__icon" aria-hidden="true">
        <svg viewBox="0 0 24 24" width="44" height="44">
          <path
            fill="currentColor"
            d="M12 2a5 5 0 0 0-5 5v3H6a2 2 0 0 0-2 2v8a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2v-8a2 2 0 0 0-2-2h-1V7a5 5 0 0 0-5-5zm-3 5a3 3 0 0 1 6 0v3H9V7zm3 7a2 2 0 0 1 1 3.73V19h-2v-1.27A2 2 0 0 1 12 14z"
          />
        </svg>
      </div>
      <h1 className="page-title">{t('live.forbidden.title')}</h1>
      <p className="page-lead">{t('live.forbidden.lead')}</p>
      <Link to={`/challenges/${challengeId}`} className="btn btn--primary">
        {t('live.forbidden.action')}
      </Link>
    </section>
  );
}

function Room({ challenge: c, me }: { challenge: Challenge; me: User }) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const room = useMemo(() => new LiveRoom(c.id, me.id), [c.id, me.id]);
  useEffect(() => {
    room.start();
    return () => room.stop();
  }, [room]);
  const snap = useSyncExternalStore(room.subscribe, room.getSnapshot);

  // The socket found the session gone: forget the user, RequireAuth sends to /login and back.
  useEffect(() => {
    if (snap.connection === 'signedOut') queryClient.setQueryData(keys.me, null);
  }, [snap.connection, queryClient]);

  // A `notice` frame: the challenge everywhere in the app shows the new notice (the banner
  // below reads it from there).
  const announcement = snap.announcement;
  useEffect(() => {
    if (!announcement) return;
    queryClient.setQueryData<Challenge>(keys.challenge(c.id), (old) =>
      old ? { ...old, notice: announcement.notice, noticeUpdatedAt: new Date().toISOString() } : old,
    );
    void queryClient.invalidateQueries({ queryKey: keys.challenges, refetchType: 'none' });
  }, [announcement, c.id, queryClient]);

  // Back after a dropped connection: the notice may have changed meanwhile.
  useEffect(() => {
    if (snap.joins > 1) void queryClient.invalidateQueries({ queryKey: keys.challenge(c.id) });
  }, [snap.joins, c.id, queryClient]);

  if (snap.status === 'forbidden') return <NotParticipant challengeId={c.id} />;

  const others = snap.members.filter((m) => m.userId !== me.id);
  const online = others.length + 1;

  return (
    <section className="room" data-testid="live-room" data-connection={snap.connection} data-status={snap.status}>
      <header className="room__head">
        <div className="room__heading">
          <Link to={`/challenges/${c.id}`} className="room__back">
            ‹ {t('live.back')}
          </Link>
          <h1 className="room__title">{c.title}</h1>
          <p className="room__meta">
            <span>{t('live.sessionWindow', { start: c.sessionStart, end: c.sessionEnd, timezone: c.timezone })}</span>
            {snap.status === 'joined' && <span>{t('live.online', { count: online })}</span>}
          </p>
        </div>
        <ConnectionBadge state={snap.connection} />
      </header>

      {c.notice && <NoticeBanner key={c.notice} notice={c.notice} fresh={announcement !== null} />}

      {snap.unavailable && snap.connection === 'live' && (
        <div className="room__banner room__banner--paused" role="status" data-testid="room-unavailable">
          <span>{t('live.errors.SERVICE_UNAVAILABLE')}</span>
          <button type="button" className="btn btn--ghost btn--small" onClick={() => room.retryNow()}>
            {t('live.retryNow')}
          </button>
        </div>
      )}

      {snap.connection === 'reconnecting' && (
        <div className="room__banner" role="status">
          <span>{t('live.reconnectingNote')}</span>
          <button type="button" className="btn btn--ghost btn--small" onClick={() => realtime.reconnectNow()}>
            {t('live.reconnectNow')}
          </button>
        </div>
      )}

      <div className="room__layout">
        <div className="room__stage">
          <div className="room__grid" data-count={Math.min(others.length + 1, 9)} aria-label={t('live.videoGrid')} role="group">
            <VideoTile
              self
              userId={me.id}
              nickname={me.nickname}
              profileImage={me.profileImage}
              stream={snap.local.stream}
              camera={snap.local.camera === 'on' || snap.local.camera === 'starting'}
              mic={snap.local.micOn}
            />
            {others.map((m) => {
              const peer = snap.peers.find((p) => p.userId === m.userId);
              return (
                <VideoTile
                  key={m.userId}
                  userId={m.userId}
                  nickname={m.nickname}
                  profileImage={m.profileImage}
                  stream={peer?.stream ?? null}
                  camera={m.camera}
                  mic={m.mic}
                  peerState={peer?.state ?? 'connecting'}
                />
              );
            })}
          </div>
          {snap.status === 'joined' && others.length === 0 && <p className="muted room__alone">{t('live.alone')}</p>}
          <CameraNote snap={snap} />
          <div className="room__bar">
            <AttendanceTimer
              attendance={snap.attendance}
              cameraOn={snap.local.cameraOn}
              live={snap.connection === 'live'}
              fallbackRequired={c.minMinutes * 60}
            />
            <Controls room={room} snap={snap} challengeId={c.id} />
          </div>
        </div>

        <ChatPanel
          selfId={me.id}
          messages={snap.messages}
          pending={snap.pending}
          hasOlder={snap.history.hasOlder}
          loadingOlder={snap.history.loading}
          olderError={snap.history.error}
          onLoadOlder={() => void room.loadOlder()}
          onSend={(body) => room.sendChat(body)}
          onRetry={(clientId) => room.retryChat(clientId)}
          onDiscard={(clientId) => room.discardChat(clientId)}
          notice={snap.notice && <Notice key={snap.notice.id} notice={snap.notice} onDismiss={() => room.dismissNotice()} />}
        />
      </div>
    </section>
  );
}

/**
 * The challenge's notice over the room. `fresh`: it arrived live (a `notice` frame), so the
 * banner says it is new for a moment.
 */
function NoticeBanner({ notice, fresh }: { notice: string; fresh: boolean }) {
  const { t } = useTranslation();
  const [open, setOpen] = useState(false);
  // Folded to two lines; the toggle appears only when that hides something (width-dependent).
  const [long, setLong] = useState(false);
  const body = useRef<HTMLParagraphElement>(null);
  useLayoutEffect(() => {
    const el = body.current;
    if (!el || open) return;
    const measure = () => setLong(el.scrollHeight > el.clientHeight + 1);
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(el);
    return () => observer.disconnect();
  }, [open]);
  return (
    <aside
      className={`room__notice${fresh ? ' room__notice--fresh' : ''}${open ? '' : ' room__notice--folded'}`}
      aria-label={t('notice.title')}
      aria-live="polite"
      data-testid="room-announcement"
    >
      <span className="room__notice-icon" aria-hidden="true">
        📢
      </span>
      <div className="room__notice-text">
        <strong className="room__notice-label">
          {t('notice.title')}
          {fresh && <span className="room__notice-new">{t('notice.new')}</span>}
        </strong>
        <p className="room__notice-body" ref={body}>
          {notice}
        </p>
      </div>
      {(long || open) && (
        <button type="button" className="link-btn room__notice-toggle" onClick={() => setOpen(!open)} aria-expanded={open}>
          {open ? t('notice.fold') : t('notice.unfold')}
        </button>
      )}
    </aside>
  );
}

function ConnectionBadge({ state }: { state: ConnectionState }) {
  const { t } = useTranslation();
  const tone = state === 'live' ? 'live' : state === 'reconnecting' || state === 'signedOut' ? 'warn' : 'wait';
  return (
    <span className={`conn conn--${tone}`} role="status" data-testid="connection" data-state={state}>
      <span className="conn__dot" aria-hidden="true" />
      {t(`live.connection.${state}`)}
    </span>
  );
}

function CameraNote({ snap }: { snap: RoomSnapshot }) {
  const { t } = useTranslation();
  const camera = snap.local.camera;
  if (camera !== 'denied' && camera !== 'unavailable') return null;
  return (
    <p className="error-note room__camera-note" role="alert">
      {camera === 'denied' ? t('live.cameraDenied') : t('live.cameraUnavailable')}
    </p>
  );
}

function Controls({ room, snap, challengeId }: { room: LiveRoom; snap: RoomSnapshot; challengeId: number }) {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const { camera, cameraOn, micOn, hasMic } = snap.local;
  const cameraBroken = camera === 'denied' || camera === 'unavailable';
  const cameraLabel = cameraBroken ? t('live.retryCamera') : cameraOn ? t('live.turnCameraOff') : t('live.turnCameraOn');
  const micLabel = !hasMic ? t('live.noMic') : micOn ? t('live.muteMic') : t('live.unmuteMic');

  return (
    <div className="controls" role="toolbar" aria-label={t('live.controls')}>
      <button
        type="button"
        className={cameraOn ? 'control control--on' : 'control control--off'}
        onClick={() => room.toggleCamera()}
        disabled={camera === 'starting'}
        aria-pressed={cameraBroken ? undefined : cameraOn}
        aria-label={cameraLabel}
        title={cameraLabel}
        data-testid="toggle-camera"
      >
        <CameraIcon off={!cameraOn} />
        <span className="control__label">{t('live.camera')}</span>
      </button>
      <button
        type="button"
        className={micOn ? 'control control--on' : 'control control--off'}
        onClick={() => room.toggleMic()}
        disabled={!hasMic}
        aria-pressed={hasMic ? micOn : undefined}
        aria-label={micLabel}
        title={micLabel}
        data-testid="toggle-mic"
      >
        {micOn ? <MicIcon /> : <MicOffIcon size={22} />}
        <span className="control__label">{t('live.mic')}</span>
      </button>
      <button
        type="button"
        className="control control--leave"
        onClick={() => void navigate(`/challenges/${challengeId}`)}
        aria-label={t('live.leave')}
        title={t('live.leave')}
      >
        <LeaveIcon />
        <span className="control__label">{t('live.leave')}</span>
      </button>
    </div>
  );
}

function Notice({ notice, onDismiss }: { notice: RoomNotice; onDismiss: () => void }) {
  const { t } = useTranslation();
  useEffect(() => {
    const timer = setTimeout(onDismiss, NOTICE_MS);
    return () => clearTimeout(timer);
    // One timer per notice (the component is keyed by it).
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);
  return (
    <div className="error-note chat__notice" role="alert" data-testid="room-notice" data-code={notice.code}>
      <span>{errorText(t, notice.code)}</span>
      <button type="button" className="chat__notice-close" onClick={onDismiss} aria-label={t('live.dismiss')}>
        ×
      </button>
    </div>
  );
}

function CameraIcon({ off }: { off: boolean }) {
  return (
    <svg viewBox="0 0 24 24" width="22" height="22" aria-hidden="true">
      <path
        fill="currentColor"
        d="M17 10.5V7a1 1 0 0 0-1-1H4a1 1 0 0 0-1 1v10a1 1 0 0 0 1 1h12a1 1 0 0 0 1-1v-3.5l4 4v-11l-4 4z"
      />
      {off && <path stroke="currentColor" strokeWidth="2.2" strokeLinecap="round" d="M3 3l18 18" />}
    </svg>
  );
}

function MicIcon() {
  return (
    <svg viewBox="0 0 24 24" width="22" height="22" aria-hidden="true">
      <path
        fill="currentColor"
        d="M12 14a3 3 0 0 0 3-3V5a3 3 0 0 0-6 0v6a3 3 0 0 0 3 3zm5-3a5 5 0 0 1-10 0H5a7 7 0 0 0 6 6.92V21h2v-3.08A7 7 0 0 0 19 11h-2z"
      />
    </svg>
  );
}

function LeaveIcon() {
  return (
    <svg viewBox="0 0 24 24" width="22" height="22" aria-hidden="true">
      <path
        fill="currentColor"
        d="M10.09 15.59 11.5 17l5-5-5-5-1.41 1.41L12.67 11H3v2h9.67l-2.58 2.59zM19 3H5a2 2 0 0 0-2 2v4h2V5h14v14H5v-4H3v4a2 2 0 0 0 2 2h14a2 2 0 0 0 2-2V5a2 2 0 0 0-2-2z"
      />
    </svg>
  );
}
