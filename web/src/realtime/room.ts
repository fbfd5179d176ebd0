/**
 * One live room as the page sees it: membership, chat, today's attendance, the local camera and
 * the video mesh, kept in one immutable snapshot that React reads with useSyncExternalStore.
 *
 * The room rides on the tab's shared socket (`realtime`): every time it opens, the room sends
 * `join {since: last message id seen}`, merges what it missed, resends chat messages that were
 * never confirmed (the `clientId` makes that safe) and tells the server its camera state again.
 *
 * Chat ids count up 1, 2, 3… per room: a `chat` frame that skips ids (frames lost while the
 * server's shared store was briefly down) makes the room fetch the skipped messages over HTTP
 * and slot them in. `error SERVICE_UNAVAILABLE` (live features paused on the server) is shown
 * and the room joins again a few seconds later, backing off while it lasts.
 */
import { api } from '../api/client';
import { PeerMesh, type RemotePeer } from './mesh';
import type { ChatMessage, Member, ServerFrame } from './protocol';
import { realtime, type ConnectionState } from './socket';

export type RoomStatus = 'waiting' | 'joined' | 'forbidden';

/** `none`: this device has no camera; `denied`: the browser or the user refused it. */
export type CameraState = 'starting' | 'on' | 'off' | 'denied' | 'unavailable';

export interface PendingMessage {
  clientId: string;
  body: string;
  status: 'sending' | 'failed';
  /** The server's refusal (RATE_LIMITED, VALIDATION_FAILED…), or TIMEOUT. */
  error: string | null;
  sentAt: number;
}

export interface Attendance {
  date: string;
  seconds: number;
  achieved: boolean;
  requiredSeconds: number | null;
  /** `performance.now()` when the frame arrived. */
  receivedAt: number;
  /** The server's count went up since its previous frame: time is accruing right now. */
  accruing: boolean;
}

export interface RoomNotice {
  id: number;
  code: string;
}

/** The challenge's notice as the last `notice` frame set it (`seq` counts the frames). */
export interface Announcement {
  notice: string | null;
  seq: number;
}

export interface RoomSnapshot {
  connection: ConnectionState;
  /** How many `joined` answers so far (1 after the first join, more after each rejoin). */
  joins: number;
  /** Null until a `notice` frame arrives: the challenge's own `notice` holds until then. */
  announcement: Announcement | null;
  /** The server's live features are paused (`SERVICE_UNAVAILABLE`): when the room tries again. */
  unavailable: { retryAt: number } | null;
  status: RoomStatus;
  members: Member[];
  peers: RemotePeer[];
  messages: ChatMessage[];
  pending: PendingMessage[];
  history: { hasOlder: boolean; loading: boolean; error: boolean };
  attendance: Attendance | null;
  notice: RoomNotice | null;
  local: { stream: MediaStream | null; camera: CameraState; cameraOn: boolean; micOn: boolean; hasMic: boolean };
}

interface MessagePage {
  items: ChatMessage[];
  nextBefore?: number | null;
}

interface IceServers {
  iceServers: RTCIceServer[];
  ttlSeconds: number;
}

const HISTORY_PAGE = 50;
/** The history endpoint's largest page. */
const GAP_PAGE = 100;
/** Most pages fetched to fill one gap (more was missed than the room would ever scroll back). */
const GAP_PAGES_MAX = 5;
const GAP_RETRY_MS = 3_000;
/** First wait before joining again after SERVICE_UNAVAILABLE; doubles up to the max. */
const UNAVAILABLE_RETRY_MS = 3_000;
const UNAVAILABLE_RETRY_MAX_MS = 20_000;
const PENDING_TIMEOUT_MS = 15_000;
/** Codes that refuse a chat message (they carry the room but not the clientId). */
const CHAT_REFUSALS = new Set(['RATE_LIMITED', 'VALIDATION_FAILED', 'FRAME_TOO_LARGE']);
/** Codes that are about plumbing the user can do nothing with. */
const SILENT_CODES = new Set(['PEER_NOT_IN_ROOM', 'NOT_IN_ROOM']);

export const CHAT_MAX = 1000;

function newClientId(): string {
  if (typeof crypto !== 'undefined' && typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 12)}`;
}

/** Tests and the console may set `localStorage['ssgwan.debug'] = '1'` (or open the page with `?debug=1`). */
export function debugEnabled(): boolean {
  try {
    return localStorage.getItem('ssgwan.debug') === '1' || new URLSearchParams(location.search).get('debug') === '1';
  } catch {
    return false;
  }
}

function mergeMessages(current: ChatMessage[], incoming: ChatMessage[]): ChatMessage[] {
  if (incoming.length === 0) return current;
  const byId = new Map(current.map((m) => [m.id, m]));
  for (const m of incoming) byId.set(m.id, m);
  return [...byId.values()].sort((a, b) => a.id - b.id);
}

declare global {
  interface Window {
    /** With the debug flag: the camera stream, so tests can see it stopped on leaving. */
    __ssgwanLocalStream?: MediaStream;
    __ssgwanSocket?: typeof realtime;
  }
}

export class LiveRoom {
  private snapshot: RoomSnapshot;
  private readonly listeners = new Set<() => void>();
  private readonly cleanups: (() => void)[] = [];
  private mesh: PeerMesh | null = null;
  private stream: MediaStream | null = null;
  /** Bumped by every start and stop; async work from an older run checks it and gives up. */
  private run = 0;
  private active = false;
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
  private iceTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly debug = debugEnabled();

  constructor(
    readonly roomId: number,
    private readonly selfId: number,
  ) {
    this.snapshot = {
      connection: realtime.getState(),
      joins: 0,
      announcement: null,
      unavailable: null,
      status: 'waiting',
      members: [],
      peers: [],
      messages: [],
      pending: [],
      history: { hasOlder: false, loading: false, error: false },
      attendance: null,
      notice: null,
      local: { stream: null, camera: 'starting', cameraOn: false, micOn: false, hasMic: false },
    };
  }

  // ---- React glue ----

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getSnapshot = (): RoomSnapshot => this.snapshot;

  private alive(run: number): boolean {
    return this.active && this.run === run;
  }

  private update(patch: Partial<RoomSnapshot>) {
    if (!this.active) return;
    this.snapshot = { ...this.snapshot, ...patch };
    for (const listener of [...this.listeners]) listener();
  }

  // ---- lifecycle ----

  /** Opens the camera, fetches ICE servers, then joins over the shared socket. */
  start() {
    if (this.active) return;
    this.active = true;
    const run = ++this.run;
    void this.startCamera();
    this.cleanups.push(realtime.acquire());
    this.cleanups.push(realtime.onState((connection) => this.onConnection(connection)));
    this.cleanups.push(realtime.onFrame((frame) => this.onFrame(frame)));
    this.update({ connection: realtime.getState() });
    if (this.debug) window.__ssgwanSocket = realtime;

    const pendingTimer = setInterval(() => this.expirePending(), 2_000);
    this.cleanups.push(() => clearInterval(pendingTimer));

    void this.loadIceServers().then(() => {
      if (!this.alive(run)) return;
      this.cleanups.push(realtime.onOpen(() => this.join()));
      if (realtime.isOpen()) this.join();
    });
  }

  /** Leaves the room, closes every connection and turns the camera off; `start` may follow. */
  stop() {
    if (!this.active) return;
    if (this.joined) realtime.send({ type: 'leave', room: this.roomId });
    this.joined = false;
    this.active = false;
    this.run += 1;
    clearTimeout(this.iceTimer);
    clearTimeout(this.unavailableTimer);
    this.unavailableAttempts = 0;
    for (const cleanup of this.cleanups.splice(0)) cleanup();
    this.mesh?.close();
    this.mesh = null;
    this.stopStream();
    this.snapshot = {
      ...this.snapshot,
      status: this.snapshot.status === 'forbidden' ? 'forbidden' : 'waiting',
      unavailable: null,
      peers: [],
      history: { ...this.snapshot.history, loading: false },
      local: { stream: null, camera: 'starting', cameraOn: false, micOn: false, hasMic: false },
    };
  }

  private async loadIceServers() {
    const run = this.run;
    let servers: RTCIceServer[] = [];
    let ttl = 3600;
    try {
      const answer = await api<IceServers>('/api/rtc/ice-servers');
      servers = answer.iceServers.map((s) => {
        // The server sends `null` for absent credentials; RTCPeerConnection wants them absent.
        const server: RTCIceServer = { urls: s.urls };
        if (s.username) server.username = s.username;
        if (s.credential) server.credential = s.credential;
        return server;
      });
      ttl = answer.ttlSeconds;
    } catch {
      // No STUN/TURN: host candidates still connect browsers on one network.
    }
    if (!this.alive(run)) return;
    if (this.mesh) this.mesh.setIceServers(servers);
    else {
      this.mesh = new PeerMesh({
        selfId: this.selfId,
        iceServers: servers,
        debug: this.debug,
        sendSignal: (to, data) => realtime.send({ type: 'signal', room: this.roomId, to, data }),
        onChange: () => this.update({ peers: this.mesh?.getPeers() ?? [] }),
      });
      if (this.stream) this.mesh.setLocalStream(this.stream);
    }
    // Refresh TURN credentials before they lapse.
    if (ttl > 60) this.iceTimer = setTimeout(() => void this.loadIceServers(), ttl * 800);
  }

  private join() {
    if (!this.active || this.snapshot.status === 'forbidden') return;
    realtime.send(this.lastId === null ? { type: 'join', room: this.roomId } : { type: 'join', room: this.roomId, since: this.lastId });
  }

  private onConnection(connection: ConnectionState) {
    if (connection !== 'live') this.joined = false;
    this.update({ connection });
  }

  // ---- frames ----

  private onFrame(frame: ServerFrame) {
    if (!this.active) return;
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
      case 'signal':
        this.mesh?.handleSignal(frame.from, frame.data);
        break;
      case 'attendance':
        this.onAttendance(frame);
        break;
      case 'notice':
        this.announcementSeq += 1;
        this.update({ announcement: { notice: frame.notice, seq: this.announcementSeq } });
        break;
      case 'error':
        this.onError(frame.code, frame.room);
        break;
      default:
        break;
    }
  }

  private onJoined(members: Member[], missed: ChatMessage[], truncated: boolean) {
    this.joined = true;
    clearTimeout(this.unavailableTimer);
    this.unavailableAttempts = 0;

    let messages = this.snapshot.messages;
    let hasOlder = this.snapshot.history.hasOlder;
    if (truncated && missed[0]) {
      // More was missed than the server replays: keep the newest part, page back over HTTP.
      const oldest = missed[0].id;
      messages = messages.filter((m) => m.id >= oldest);
      this.olderBefore = oldest;
      hasOlder = true;
    }
    messages = mergeMessages(messages, missed);
    this.noteLastId(messages);

    this.update({
      status: 'joined',
      joins: this.snapshot.joins + 1,
      unavailable: null,
      members,
      messages,
      history: { ...this.snapshot.history, hasOlder },
    });
    this.mesh?.sync(members.map((m) => m.userId));
    this.sendMedia();
    // Unconfirmed messages go (again): the same clientId is stored once.
    const now = Date.now();
    const pending = this.snapshot.pending.map((p) => {
      if (p.status !== 'sending') return p;
      realtime.send({ type: 'chat', room: this.roomId, body: p.body, clientId: p.clientId });
      return { ...p, sentAt: now };
    });
    this.update({ pending });
    if (!this.historyLoaded) void this.loadOlder();
  }

  private onPresence(event: 'join' | 'leave' | 'media', user: Member) {
    const others = this.snapshot.members.filter((m) => m.userId !== user.userId);
    if (event === 'leave') {
      this.update({ members: others });
      this.mesh?.remove(user.userId);
      return;
    }
    const index = this.snapshot.members.findIndex((m) => m.userId === user.userId);
    const members = [...this.snapshot.members];
    if (index >= 0) members[index] = user;
    else members.push(user);
    this.update({ members });
    if (event === 'join') this.mesh?.connect(user.userId);
  }

  private onChat(message: ChatMessage, clientId: string | null) {
    const seen = this.lastId;
    const messages = mergeMessages(this.snapshot.messages, [message]);
    this.noteLastId(messages);
    const pending = clientId ? this.snapshot.pending.filter((p) => p.clientId !== clientId) : this.snapshot.pending;
    this.update({ messages, pending });
    // Ids skipped: those messages were stored but their frames never came.
    if (seen !== null && message.id > seen + 1) this.fillGap(seen, message.id);
  }

  /** Fetches the messages with ids strictly between `after` and `before` that are not shown yet. */
  private fillGap(after: number, before: number, attempt = 0) {
    const run = this.run;
    this.gapChain = this.gapChain.then(async () => {
      if (!this.alive(run)) return;
      const have = new Set(this.snapshot.messages.map((m) => m.id));
      let upTo = before;
      while (upTo - 1 > after && have.has(upTo - 1)) upTo -= 1;
      for (let page = 0; page < GAP_PAGES_MAX && upTo - 1 > after; page++) {
        let answer: MessagePage;
        try {
          answer = await api<MessagePage>(`/api/challenges/${this.roomId}/messages`, {
            query: { before: upTo, limit: Math.min(GAP_PAGE, upTo - after - 1) },
          });
        } catch {
          if (attempt < 2 && this.alive(run)) {
            setTimeout(() => {
              if (this.alive(run)) this.fillGap(after, upTo, attempt + 1);
            }, GAP_RETRY_MS);
          }
          return;
        }
        if (!this.alive(run)) return;
        const found = answer.items.filter((m) => m.id > after && m.id < upTo);
        if (found.length > 0) this.update({ messages: mergeMessages(this.snapshot.messages, found) });
        const oldest = answer.items[0]?.id;
        if (oldest === undefined || answer.nextBefore === null || answer.nextBefore === undefined) return;
        upTo = oldest;
      }
    });
  }

  private onAttendance(frame: Extract<ServerFrame, { type: 'attendance' }>) {
    const previous = this.snapshot.attendance;
    this.update({
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

  private onError(code: string, room: number | undefined) {
    if (code === 'SERVICE_UNAVAILABLE' && (room === undefined || room === this.roomId)) {
      this.retryWhenAvailable();
      return;
    }
    if (code === 'FORBIDDEN' && room === this.roomId) {
      this.joined = false;
      this.mesh?.close();
      this.stopStream();
      this.update({ status: 'forbidden', local: { ...this.snapshot.local, stream: null, camera: 'off', cameraOn: false } });
      return;
    }
    if (code === 'NOT_IN_ROOM' && room === this.roomId) {
      // The server lost track of us (it restarted between frames): enter again, resending follows.
      this.joined = false;
      this.join();
      return;
    }
    if (CHAT_REFUSALS.has(code)) {
      // The refusal names no clientId; the oldest unconfirmed message is the one it answers
      // (frames of one connection are handled in order). A wrong guess is harmless: retrying
      // resends the same clientId, which the server stores only once.
      const index = this.snapshot.pending.findIndex((p) => p.status === 'sending');
      if (index >= 0) {
        const pending = [...this.snapshot.pending];
        const item = pending[index];
        if (item) pending[index] = { ...item, status: 'failed', error: code };
        this.update({ pending });
      }
    }
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
    if (!this.active) return;
    if (realtime.isOpen()) this.join();
    else realtime.reconnectNow();
  }

  private noteLastId(messages: ChatMessage[]) {
    const last = messages[messages.length - 1];
    if (last && (this.lastId === null || last.id > this.lastId)) this.lastId = last.id;
  }

  // ---- chat ----

  sendChat(text: string): boolean {
    const body = text.trim();
    if (!body || [...body].length > CHAT_MAX) return false;
    const pending: PendingMessage = { clientId: newClientId(), body, status: 'sending', error: null, sentAt: Date.now() };
    this.update({ pending: [...this.snapshot.pending, pending] });
    if (this.joined) realtime.send({ type: 'chat', room: this.roomId, body, clientId: pending.clientId });
    return true;
  }

  retryChat(clientId: string) {
    const pending = this.snapshot.pending.map((p) =>
      p.clientId === clientId ? { ...p, status: 'sending' as const, error: null, sentAt: Date.now() } : p,
    );
    this.update({ pending });
    const item = pending.find((p) => p.clientId === clientId);
    if (item && this.joined) realtime.send({ type: 'chat', room: this.roomId, body: item.body, clientId });
  }

  discardChat(clientId: string) {
    this.update({ pending: this.snapshot.pending.filter((p) => p.clientId !== clientId) });
  }

  dismissNotice() {
    this.update({ notice: null });
  }

  private expirePending() {
    if (!this.joined) return;
    const now = Date.now();
    let changed = false;
    const pending = this.snapshot.pending.map((p) => {
      if (p.status === 'sending' && now - p.sentAt > PENDING_TIMEOUT_MS) {
        changed = true;
        return { ...p, status: 'failed' as const, error: 'TIMEOUT' };
      }
      return p;
    });
    if (changed) this.update({ pending });
  }

  /** Loads the newest page of messages the first time, then the page before the oldest shown. */
  async loadOlder() {
    if (this.snapshot.history.loading) return;
    const initial = !this.historyLoaded;
    if (!initial && this.olderBefore === null) return;
    const run = this.run;
    this.update({ history: { ...this.snapshot.history, loading: true, error: false } });
    try {
      const page = await api<MessagePage>(`/api/challenges/${this.roomId}/messages`, {
        query: { limit: HISTORY_PAGE, before: initial ? undefined : (this.olderBefore ?? undefined) },
      });
      if (!this.alive(run)) return;
      const messages = mergeMessages(this.snapshot.messages, page.items);
      this.noteLastId(messages);
      this.historyLoaded = true;
      this.olderBefore = page.nextBefore ?? null;
      this.update({
        messages,
        history: { hasOlder: this.olderBefore !== null, loading: false, error: false },
      });
    } catch {
      this.update({ history: { ...this.snapshot.history, loading: false, error: true } });
    }
  }

  // ---- camera and microphone ----

  private async startCamera() {
    const run = this.run;
    this.update({ local: { ...this.snapshot.local, camera: 'starting' } });
    if (!navigator.mediaDevices?.getUserMedia) {
      this.update({ local: { ...this.snapshot.local, camera: 'unavailable' } });
      return;
    }
    const video: MediaTrackConstraints = { width: { ideal: 640 }, height: { ideal: 480 }, frameRate: { ideal: 24, max: 30 } };
    let stream: MediaStream | null = null;
    let failure: unknown = null;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video, audio: { echoCancellation: true, noiseSuppression: true } });
    } catch (err) {
      failure = err;
      // No microphone (or it is busy): a camera alone still proves attendance.
      if (!(err instanceof DOMException && err.name === 'NotAllowedError')) {
        try {
          stream = await navigator.mediaDevices.getUserMedia({ video });
          failure = null;
        } catch (again) {
          failure = again;
        }
      }
    }
    if (!this.alive(run) || this.snapshot.status === 'forbidden') {
      stream?.getTracks().forEach((t) => t.stop());
      return;
    }
    if (!stream) {
      const denied = failure instanceof DOMException && (failure.name === 'NotAllowedError' || failure.name === 'SecurityError');
      this.update({ local: { ...this.snapshot.local, camera: denied ? 'denied' : 'unavailable', cameraOn: false } });
      this.sendMedia();
      return;
    }

    this.stopStream();
    this.stream = stream;
    if (this.debug) window.__ssgwanLocalStream = stream;
    const audio = stream.getAudioTracks()[0];
    // Microphones start muted: most rooms are quiet study rooms.
    if (audio) audio.enabled = this.snapshot.local.micOn;
    for (const track of stream.getTracks()) {
      track.addEventListener('ended', () => this.onTrackEnded(track));
    }
    this.mesh?.setLocalStream(stream);
    this.update({
      local: { stream, camera: 'on', cameraOn: true, micOn: Boolean(audio?.enabled), hasMic: Boolean(audio) },
    });
    this.sendMedia();
  }

  private onTrackEnded(track: MediaStreamTrack) {
    if (!this.active || !this.stream?.getTracks().includes(track)) return;
    if (track.kind === 'video') {
      this.update({ local: { ...this.snapshot.local, camera: 'unavailable', cameraOn: false } });
    } else {
      this.update({ local: { ...this.snapshot.local, micOn: false, hasMic: false } });
    }
    this.sendMedia();
  }

  /** Camera on/off; when the camera never started (refused, missing), tries again. */
  toggleCamera() {
    const video = this.stream?.getVideoTracks()[0];
    if (!video || video.readyState === 'ended') {
      void this.startCamera();
      return;
    }
    video.enabled = !video.enabled;
    this.update({ local: { ...this.snapshot.local, camera: video.enabled ? 'on' : 'off', cameraOn: video.enabled } });
    this.sendMedia();
  }

  toggleMic() {
    const audio = this.stream?.getAudioTracks()[0];
    if (!audio || audio.readyState === 'ended') return;
    audio.enabled = !audio.enabled;
    this.update({ local: { ...this.snapshot.local, micOn: audio.enabled } });
    this.sendMedia();
  }

  private sendMedia() {
    if (!this.joined) return;
    const { cameraOn, micOn } = this.snapshot.local;
    realtime.send({ type: 'media', room: this.roomId, camera: cameraOn, mic: micOn });
  }

  private stopStream() {
    this.stream?.getTracks().forEach((t) => t.stop());
    this.stream = null;
  }
}
