/**
 * One live room as the page sees it: membership, chat, today's attendance, the local camera and
 * the media connection to the server, kept in one snapshot (store.ts) that React reads with
 * useSyncExternalStore. This controller wires the parts: the chat rules (chat.ts), the camera
 * (media.ts), the ICE servers (ice.ts), the one RTCPeerConnection to the server's media server
 * (sfu.ts) and the video grid's pages (sfuState.ts), over the tab's shared socket.
 *
 * Every time the socket opens, the room sends `join {since: last message id seen}`, merges what
 * it missed, resends chat messages that were never confirmed (the `clientId` makes that safe)
 * and tells the server its camera state again, then asks for a new media session (`rtcStart`)
 * and tells it which members' videos are on screen (`rtcView`: the grid's current page). A `chat` frame that skips ids makes the room
 * fetch the skipped messages over HTTP. `error SERVICE_UNAVAILABLE` (live features paused on the
 * server) is shown and the room joins again a few seconds later, backing off while it lasts.
 */
import { fetchMessages } from '../../api/chat';
import { errorCodes } from '../../api/errorCodes';
import type { ChatMessage, LeftReason, Member, ServerFrame, UnverifiedReason } from '../protocol';
import { realtime, type ConnectionState } from '../socket';
import {
  CHAT_REFUSALS,
  applyReplay,
  chatBody,
  expirePending,
  fillGap,
  mergeMessages,
  newPending,
  newestId,
  receiveChat,
  refuseOldest,
  resendPending,
  retryPending,
  type Gap,
} from './chat';
import { debugEnabled, newClientId } from './debug';
import { IceServerFeed } from './ice';
import { LocalMedia } from './media';
import { REMOTE_IDLE, SfuSession } from './sfu';
import { gridPage, viewTiles } from './sfuState';
import { LOCAL_IDLE, SnapshotStore, initialSnapshot, type RoomSnapshot } from './store';

export type { Attendance, CameraState, LocalMediaState, PendingMessage, RoomNotice, RoomSnapshot, RoomStatus, Verification } from './store';
export type { RemoteMedia } from './sfu';
export type { MediaLink } from './sfuState';
export { GRID_PAGE_SIZE, gridPage } from './sfuState';

const HISTORY_PAGE = 50;
const GAP_RETRY_MS = 3_000;
/** Failed gap requests are tried again this many times. */
const GAP_RETRIES = 2;
/** First wait before joining again after SERVICE_UNAVAILABLE; doubles up to the max. */
const UNAVAILABLE_RETRY_MS = 3_000;
const UNAVAILABLE_RETRY_MAX_MS = 20_000;
const PENDING_CHECK_MS = 2_000;
/** Codes that are about plumbing the user can do nothing with. */
const SILENT_CODES = errorCodes('NOT_IN_ROOM');
/** Wide enough for one or two big tiles (narrower: a phone, every tile small). */
const WIDE_QUERY = '(min-width: 720px)';

export class LiveRoom {
  private readonly store = new SnapshotStore<RoomSnapshot>(initialSnapshot(realtime.getState()));
  readonly subscribe = this.store.subscribe;
  readonly getSnapshot = this.store.getSnapshot;

  private readonly cleanups: (() => void)[] = [];
  private readonly sfu: SfuSession;
  private readonly media: LocalMedia;
  private readonly ice: IceServerFeed;
  /** Bumped by every start and stop; async work from an older run checks it and gives up. */
  private run = 0;
  private joined = false;
  private lastId: number | null = null;
  private olderBefore: number | null = null;
  /** The newest page of history came over HTTP (the first join replays nothing). */
  private historyLoaded = false;
  private noticeSeq = 0;
  private announcementSeq = 0;
  /** Gap fetches run one after another. */
  private gapChain: Promise<void> = Promise.resolve();
  private unavailableAttempts = 0;
  private unavailableTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly debug = debugEnabled();

  constructor(
    readonly roomId: number,
    private readonly selfId: number,
  ) {
    this.media = new LocalMedia({
      active: () => this.store.active,
      local: () => this.snap.local,
      setLocal: (local) => this.update({ local }),
      opened: (stream) => {
        if (this.debug) window.__ssgwanLocalStream = stream;
        this.sfu.setLocal(stream, this.snap.local.micOn);
      },
      changed: () => {
        this.sfu.setLocal(this.media.stream, this.snap.local.micOn);
        this.sendMedia();
      },
    });
    this.sfu = new SfuSession({
      room: roomId,
      selfId,
      debug: this.debug,
      send: (frame) => realtime.send(frame),
      onChange: () => this.update({ remote: this.sfu.getMedia() }),
    });
    this.ice = new IceServerFeed((servers) => this.sfu.setIceServers(servers));
  }

  private get snap(): RoomSnapshot {
    return this.store.getSnapshot();
  }

  private update(patch: Partial<RoomSnapshot>) {
    this.store.update(patch);
  }

  private alive(run: number): boolean {
    return this.store.active && this.run === run;
  }

  // ---- lifecycle ----

  /** Opens the camera, fetches ICE servers, then joins over the shared socket. */
  start() {
    if (this.store.active) return;
    this.store.activate();
    const run = ++this.run;
    void this.startCamera();
    this.cleanups.push(realtime.acquire());
    this.cleanups.push(realtime.onState((connection) => this.onConnection(connection)));
    this.cleanups.push(realtime.onFrame((frame) => this.onFrame(frame)));
    this.update({ connection: realtime.getState() });
    if (this.debug) window.__ssgwanSocket = realtime;

    const pendingTimer = setInterval(() => this.expirePending(), PENDING_CHECK_MS);
    this.cleanups.push(() => clearInterval(pendingTimer));
    this.watchLayout();

    void this.ice.load(() => this.alive(run)).then(() => {
      if (!this.alive(run)) return;
      this.cleanups.push(realtime.onOpen(() => this.join()));
      if (realtime.isOpen()) this.join();
    });
  }

  /** Leaves the room, closes every connection and turns the camera off; `start` may follow. */
  stop() {
    if (!this.store.active) return;
    if (this.joined) realtime.send({ type: 'leave', room: this.roomId });
    this.joined = false;
    this.store.deactivate();
    this.run += 1;
    this.ice.stop();
    clearTimeout(this.unavailableTimer);
    this.unavailableAttempts = 0;
    for (const cleanup of this.cleanups.splice(0)) cleanup();
    this.sfu.end();
    this.media.stop();
    this.store.reset((snap) => ({
      ...snap,
      status: snap.status === 'forbidden' || snap.status === 'left' ? snap.status : 'waiting',
      unavailable: null,
      remote: REMOTE_IDLE,
      verification: null,
      history: { ...snap.history, loading: false },
      local: LOCAL_IDLE,
    }));
  }

  /** Big tiles need a wide screen: the view follows the layout. */
  private watchLayout() {
    if (typeof window.matchMedia !== 'function') return;
    const query = window.matchMedia(WIDE_QUERY);
    const apply = () => {
      if (query.matches === this.snap.wide) return;
      this.update({ wide: query.matches });
      this.sendView();
    };
    apply();
    query.addEventListener('change', apply);
    this.cleanups.push(() => query.removeEventListener('change', apply));
  }

  // ---- the video grid ----

  /** Shows page `page` of the other members' tiles (0-based; clamped). */
  setPage(page: number) {
    const others = this.snap.members.filter((m) => m.userId !== this.selfId);
    const next = gridPage(others, page).page;
    if (next === this.snap.page) return;
    this.update({ page: next });
    this.sendView();
  }

  /** Tells the media server whose videos are on screen now (the current page). */
  private sendView() {
    const others = this.snap.members.filter((m) => m.userId !== this.selfId);
    const grid = gridPage(others, this.snap.page);
    if (grid.page !== this.snap.page) this.update({ page: grid.page });
    const ids = grid.items.map((m) => m.userId);
    this.sfu.setView(viewTiles(ids, this.selfId, ids.length + 1, this.snap.wide));
  }

  private join() {
    if (!this.store.active || this.snap.status === 'forbidden' || this.snap.status === 'left') return;
    realtime.send(this.lastId === null ? { type: 'join', room: this.roomId } : { type: 'join', room: this.roomId, since: this.lastId });
  }

  private onConnection(connection: ConnectionState) {
    if (connection !== 'live') this.joined = false;
    this.update({ connection });
  }

  // ---- frames ----

  private onFrame(frame: ServerFrame) {
    if (!this.store.active) return;
    if ('room' in frame && frame.room !== this.roomId) return;
    switch (frame.type) {
      case 'joined':
        this.onJoined(frame.members, frame.missed, frame.truncated === true);
        break;
      case 'presence':
        this.onPresence(frame.event, frame.user);
        break;
      case 'chat':
        this.onChat(frame.message, frame.clientId ?? null);
        break;
      case 'rtcOffer':
        this.sfu.onOffer(frame);
        break;
      case 'rtcClosed':
        this.sfu.onClosed(frame.reason);
        break;
      case 'camera':
        this.onVerdict(frame.verified, frame.reason);
        break;
      case 'attendance':
        this.onAttendance(frame);
        break;
      case 'attendanceElsewhere':
        this.update({ countingElsewhere: { countingRoom: frame.countingRoom } });
        break;
      case 'notice':
        this.announcementSeq += 1;
        this.update({ announcement: { notice: frame.notice, seq: this.announcementSeq } });
        break;
      case 'error':
        this.onError(frame.code, frame.room);
        break;
      case 'left':
        this.onLeft(frame.reason);
        break;
      case 'mediaStops':
        this.update({ mediaStops: frame.stops });
        break;
      case 'chatDeleted':
        this.update({
          messages: this.snap.messages.map((m) => (m.id === frame.messageId ? { ...m, body: '', deleted: true } : m)),
        });
        break;
      default:
        break;
    }
  }

  private onJoined(members: Member[], missed: ChatMessage[], truncated: boolean) {
    this.joined = true;
    clearTimeout(this.unavailableTimer);
    this.unavailableAttempts = 0;

    const replay = applyReplay(this.snap.messages, missed, truncated);
    if (replay.olderBefore !== null) this.olderBefore = replay.olderBefore;
    this.lastId = newestId(this.lastId, replay.messages);

    this.update({
      status: 'joined',
      joins: this.snap.joins + 1,
      unavailable: null,
      members,
      // The server sends `mediaStops` right after `joined` when someone's media is stopped.
      mediaStops: [],
      messages: replay.messages,
      history: { ...this.snap.history, hasOlder: this.snap.history.hasOlder || replay.olderBefore !== null },
    });
    this.sendMedia();
    // A new socket connection or a rejoin: the media session is this connection's, so start one.
    this.sfu.begin();
    this.sendView();
    // Unconfirmed messages go (again): the same clientId is stored once.
    for (const p of this.snap.pending) {
      if (p.status === 'sending') realtime.send({ type: 'chat', room: this.roomId, body: p.body, clientId: p.clientId });
    }
    this.update({ pending: resendPending(this.snap.pending, Date.now()) });
    if (!this.historyLoaded) void this.loadOlder();
  }

  private onPresence(event: 'join' | 'leave' | 'media', user: Member) {
    const others = this.snap.members.filter((m) => m.userId !== user.userId);
    if (event === 'leave') {
      this.update({ members: others });
      this.sendView();
      return;
    }
    const index = this.snap.members.findIndex((m) => m.userId === user.userId);
    const members = [...this.snap.members];
    if (index >= 0) members[index] = user;
    else members.push(user);
    this.update({ members });
    if (event === 'join') this.sendView();
  }

  /** The media server's verdict on this user's video (only verified time counts). */
  private onVerdict(verified: boolean, reason: UnverifiedReason | null) {
    this.update({ verification: { verified, reason: verified ? null : (reason ?? 'noVideo') } });
  }

  private onChat(message: ChatMessage, clientId: string | null) {
    const next = receiveChat({ messages: this.snap.messages, pending: this.snap.pending, lastId: this.lastId }, message, clientId);
    this.lastId = next.lastId;
    this.update({ messages: next.messages, pending: next.pending });
    // Ids skipped: those messages were stored but their frames never came.
    if (next.gap) this.fillGap(next.gap);
  }

  /** Fetches the missing messages of `gap` (one gap after another), retrying a failed request. */
  private fillGap(gap: Gap, attempt = 0) {
    const run = this.run;
    const alive = () => this.alive(run);
    this.gapChain = this.gapChain.then(async () => {
      if (!alive()) return;
      const failed = await fillGap(
        gap,
        () => new Set(this.snap.messages.map((m) => m.id)),
        (query) => fetchMessages(this.roomId, query),
        (found) => this.update({ messages: mergeMessages(this.snap.messages, found) }),
        alive,
      );
      if (failed && attempt < GAP_RETRIES && alive()) {
        setTimeout(() => {
          if (alive()) this.fillGap({ after: gap.after, before: failed.retryBefore }, attempt + 1);
        }, GAP_RETRY_MS);
      }
    });
  }

  private onAttendance(frame: Extract<ServerFrame, { type: 'attendance' }>) {
    const previous = this.snap.attendance;
    this.update({
      // An attendance frame means this room counts (again).
      countingElsewhere: null,
      attendance: {
        date: frame.date,
        seconds: frame.seconds,
        achieved: frame.achieved,
        requiredSeconds: frame.requiredSeconds ?? previous?.requiredSeconds ?? null,
        receivedAt: performance.now(),
        accruing: previous !== null && previous.date === frame.date && frame.seconds > previous.seconds,
      },
    });
  }

  /** The server took this tab out of the room (cancelled, ended, deleted): stop for good. */
  private onLeft(reason: LeftReason) {
    this.joined = false;
    this.sfu.end();
    this.media.stop();
    this.update({ status: 'left', leftReason: reason, local: { ...this.snap.local, stream: null, camera: 'off', cameraOn: false } });
  }

  private onError(code: string, room: number | undefined) {
    if (code === 'SERVICE_UNAVAILABLE' && (room === undefined || room === this.roomId)) {
      this.retryWhenAvailable();
      return;
    }
    if ((room === undefined || room === this.roomId) && this.sfu.onError(code)) return;
    if (code === 'FORBIDDEN' && room === this.roomId) {
      this.joined = false;
      this.sfu.end();
      this.media.stop();
      this.update({ status: 'forbidden', local: { ...this.snap.local, stream: null, camera: 'off', cameraOn: false } });
      return;
    }
    if (code === 'NOT_IN_ROOM' && room === this.roomId) {
      // The server lost track of us (it restarted between frames): enter again, resending follows.
      this.joined = false;
      this.join();
      return;
    }
    if (CHAT_REFUSALS.has(code)) this.update({ pending: refuseOldest(this.snap.pending, code) });
    if (SILENT_CODES.has(code)) return;
    this.noticeSeq += 1;
    this.update({ notice: { id: this.noticeSeq, code } });
  }

  /** The server paused live features: say so, and join again after a few seconds (backing off). */
  private retryWhenAvailable() {
    const delay = Math.min(UNAVAILABLE_RETRY_MAX_MS, UNAVAILABLE_RETRY_MS * 2 ** this.unavailableAttempts);
    this.unavailableAttempts += 1;
    clearTimeout(this.unavailableTimer);
    this.unavailableTimer = setTimeout(() => this.retryNow(), delay);
    this.update({ unavailable: { retryAt: Date.now() + delay } });
  }

  /** Joins again at once (after SERVICE_UNAVAILABLE; the answer clears the note). */
  retryNow() {
    clearTimeout(this.unavailableTimer);
    if (!this.store.active) return;
    if (realtime.isOpen()) this.join();
    else realtime.reconnectNow();
  }

  // ---- chat ----

  sendChat(text: string): boolean {
    const body = chatBody(text);
    if (body === null) return false;
    const pending = newPending(body, newClientId(), Date.now());
    this.update({ pending: [...this.snap.pending, pending] });
    if (this.joined) realtime.send({ type: 'chat', room: this.roomId, body, clientId: pending.clientId });
    return true;
  }

  retryChat(clientId: string) {
    const pending = retryPending(this.snap.pending, clientId, Date.now());
    this.update({ pending });
    const item = pending.find((p) => p.clientId === clientId);
    if (item && this.joined) realtime.send({ type: 'chat', room: this.roomId, body: item.body, clientId });
  }

  discardChat(clientId: string) {
    this.update({ pending: this.snap.pending.filter((p) => p.clientId !== clientId) });
  }

  dismissNotice() {
    this.update({ notice: null });
  }

  private expirePending() {
    if (!this.joined) return;
    const pending = expirePending(this.snap.pending, Date.now());
    if (pending !== this.snap.pending) this.update({ pending });
  }

  /** Loads the newest page of messages the first time, then the page before the oldest shown. */
  async loadOlder() {
    if (this.snap.history.loading) return;
    const initial = !this.historyLoaded;
    if (!initial && this.olderBefore === null) return;
    const run = this.run;
    this.update({ history: { ...this.snap.history, loading: true, error: false } });
    try {
      const page = await fetchMessages(this.roomId, {
        limit: HISTORY_PAGE,
        before: initial ? undefined : (this.olderBefore ?? undefined),
      });
      if (!this.alive(run)) return;
      const messages = mergeMessages(this.snap.messages, page.items);
      this.lastId = newestId(this.lastId, messages);
      this.historyLoaded = true;
      this.olderBefore = page.nextBefore ?? null;
      this.update({
        messages,
        history: { hasOlder: this.olderBefore !== null, loading: false, error: false },
      });
    } catch {
      this.update({ history: { ...this.snap.history, loading: false, error: true } });
    }
  }

  // ---- camera and microphone ----

  private startCamera() {
    const run = this.run;
    return this.media.start(() => this.alive(run) && this.snap.status !== 'forbidden');
  }

  /** Camera on/off; when the camera never started (refused, missing), tries again. */
  toggleCamera() {
    if (!this.media.toggleCamera()) void this.startCamera();
  }

  toggleMic() {
    this.media.toggleMic();
  }

  private sendMedia() {
    if (!this.joined) return;
    const { cameraOn, micOn } = this.snap.local;
    realtime.send({ type: 'media', room: this.roomId, camera: cameraOn, mic: micOn });
  }
}
