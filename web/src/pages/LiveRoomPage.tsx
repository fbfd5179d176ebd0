import { useEffect, useMemo, useSyncExternalStore } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate, useParams } from 'react-router';
import { useMe } from '../api/auth';
import { useChallenge } from '../api/challenges';
import { isHost, useHosts } from '../api/moderation';
import { isNotFound } from '../api/client';
import { keys } from '../api/keys';
import type { Challenge, User } from '../api/types';
import { AttendanceTimer } from '../components/live/AttendanceTimer';
import { ChatPanel } from '../components/live/ChatPanel';
import { CameraNote } from '../components/live/CameraNote';
import { CameraVerified } from '../components/live/CameraVerified';
import { ConnectionBadge } from '../components/live/ConnectionBadge';
import { Controls } from '../components/live/Controls';
import { GridPager } from '../components/live/GridPager';
import { HostActions } from '../components/live/HostActions';
import { MediaStatus } from '../components/live/MediaStatus';
import { NoticeBanner } from '../components/live/NoticeBanner';
import { NotParticipant } from '../components/live/NotParticipant';
import { RoomLeft } from '../components/live/RoomLeft';
import { PausedBanner, ReconnectingBanner, TooManySocketsBanner } from '../components/live/RoomBanners';
import { RoomAudio } from '../components/live/RoomAudio';
import { RoomNotice } from '../components/live/RoomNotice';
import { VideoTile } from '../components/live/VideoTile';
import { EmptyLinkState, ErrorState, LoadingState } from '../components/States';
import { LiveRoom, gridPage } from '../realtime/room';
import { realtime } from '../realtime/socket';
import { NotFoundPage } from './NotFoundPage';

/**
 * `/challenges/:id/live`: the challenge's live room (PRODUCT.md §4–§5). Loaded as its own chunk:
 * the WebSocket client, the media connection and the room UI are only fetched by people who enter.
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
      <EmptyLinkState title={t('live.notFound')} to="/" label={t('detail.backToList')} />
    ) : (
      <ErrorState error={challenge.error} onRetry={() => void challenge.refetch()} />
    );
  }
  if (!challenge.data.joined) return <NotParticipant challengeId={id} />;
  return <Room key={`${id}:${me.data.id}`} challenge={challenge.data} me={me.data} />;
}

function Room({ challenge: c, me }: { challenge: Challenge; me: User }) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const room = useMemo(() => new LiveRoom(c.id, me.id), [c.id, me.id]);
  useEffect(() => {
    room.start();
    return () => room.stop();
  }, [room]);
  const snap = useSyncExternalStore(room.subscribe, room.getSnapshot);
  const hosts = useHosts(c.id);
  const hosting = isHost(hosts.data, me.id);

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
  if (snap.status === 'left') return <RoomLeft challengeId={c.id} reason={snap.leftReason} />;

  const others = snap.members.filter((m) => m.userId !== me.id);
  const online = others.length + 1;
  const grid = gridPage(others, snap.page);
  const tiles = grid.items.length + 1;
  const peerState = snap.remote.link === 'connected' ? 'connected' : snap.remote.link === 'unavailable' ? 'failed' : 'connecting';
  const verified = snap.verification?.verified === true;
  const stopOf = (userId: number) => snap.mediaStops.find((s) => s.user === userId);
  const myStop = stopOf(me.id);

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

      {myStop && (myStop.video || myStop.audio) && (
        <div className="room__banner room__banner--stopped" role="status" data-testid="media-stopped">
          {t(myStop.video && myStop.audio ? 'live.host.stoppedBoth' : myStop.video ? 'live.host.stoppedVideo' : 'live.host.stoppedAudio')}
        </div>
      )}

      {snap.unavailable && snap.connection === 'live' && <PausedBanner onRetry={() => room.retryNow()} />}

      {snap.connection === 'reconnecting' && <ReconnectingBanner onReconnect={() => realtime.reconnectNow()} />}

      {snap.connection === 'tooManySockets' && <TooManySocketsBanner onRetry={() => realtime.reconnectNow()} />}

      <div className="room__layout">
        <div className="room__stage">
          <div
            className="room__grid"
            data-count={tiles > 9 ? 'many' : tiles}
            aria-label={t('live.videoGrid')}
            role="group"
            data-page={grid.page}
          >
            <VideoTile
              self
              userId={me.id}
              nickname={me.nickname}
              profileImage={me.profileImage}
              stream={snap.local.stream}
              camera={snap.local.camera === 'on' || snap.local.camera === 'starting'}
              mic={snap.local.micOn}
            />
            {grid.items.map((m) => {
              const stop = stopOf(m.userId);
              return (
                <VideoTile
                  key={m.userId}
                  userId={m.userId}
                  nickname={m.nickname}
                  profileImage={m.profileImage}
                  stream={snap.remote.videos.get(m.userId) ?? null}
                  camera={m.camera}
                  mic={m.mic}
                  peerState={peerState}
                  videoStopped={stop?.video === true}
                  audioStopped={stop?.audio === true}
                  hostActions={
                    hosting &&
                    !isHost(hosts.data, m.userId) && (
                      <HostActions
                        challengeId={c.id}
                        userId={m.userId}
                        nickname={m.nickname}
                        videoStopped={stop?.video === true}
                        audioStopped={stop?.audio === true}
                      />
                    )
                  }
                />
              );
            })}
          </div>
          <GridPager page={grid.page} pageCount={grid.pageCount} onPage={(page) => room.setPage(page)} />
          <RoomAudio audios={snap.remote.audios} />
          {snap.status === 'joined' && <MediaStatus link={snap.remote.link} />}
          {snap.status === 'joined' && others.length === 0 && <p className="muted room__alone">{t('live.alone')}</p>}
          <CameraNote camera={snap.local.camera} />
          <div className="room__bar">
            <div className="room__status">
              <AttendanceTimer
                attendance={snap.attendance}
                cameraOn={verified}
                live={snap.connection === 'live'}
                fallbackRequired={c.minMinutes * 60}
                countingElsewhere={snap.countingElsewhere !== null}
              />
              {snap.status === 'joined' && (
                <CameraVerified
                  verification={snap.verification}
                  link={snap.remote.link}
                  settling={snap.remote.settling}
                  cameraOn={snap.local.cameraOn}
                />
              )}
            </div>
            <Controls
              local={snap.local}
              onToggleCamera={() => room.toggleCamera()}
              onToggleMic={() => room.toggleMic()}
              onLeave={() => void navigate(`/challenges/${c.id}`)}
            />
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
          notice={snap.notice && <RoomNotice key={snap.notice.id} notice={snap.notice} onDismiss={() => room.dismissNotice()} />}
        />
      </div>
    </section>
  );
}
