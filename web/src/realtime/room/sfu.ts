/**
 * The room's one media connection: a single RTCPeerConnection to the server's media server,
 * negotiated over the room's socket frames (docs/protocol.md, "Media"). The server makes every
 * offer; this tab only answers, so there is no glare.
 *
 * - `begin` (after every `joined`) sends `rtcStart`; the server's first offer (revision 1) opens
 *   a new RTCPeerConnection, later revisions renegotiate it, one at a time (sfuState.OfferQueue).
 * - The camera goes on the offer's `publish.video` m-line and the microphone, while it is on, on
 *   `publish.audio` (`replaceTrack`, direction `sendonly`); `tracks` says whose media each
 *   receiving m-line carries.
 * - `setView` tells the server which members' videos are on screen (`rtcView`); it forwards
 *   only those (audio of everyone).
 * - A connection that drops (`disconnected` for a moment, `failed`) or a browser that comes back
 *   online asks for an ICE restart (`rtcRestart`); a session the server ended (`rtcClosed`,
 *   except `left` and `replaced`) or refused is started afresh after a growing pause.
 *
 * ICE: the server is ICE-lite and its candidates (UDP, TCP) are in its offers; this side needs
 * no trickle. The STUN/TURN servers from /api/rtc/ice-servers are the fallback: relayed
 * candidates have the lowest ICE priority, so TURN carries media only when nothing direct works.
 */
import type { ClientFrame, PublishMids, RtcClosedReason, ServerFrame, TrackInfo, ViewTile } from '../protocol';
import { OfferQueue, RetryDelay, linkOf, memberTracks, sameTiles, type MediaLink } from './sfuState';

type RtcOffer = Extract<ServerFrame, { type: 'rtcOffer' }>;

/** A member's media as the room renders it: video for the tile, audio for the room's speakers. */
export interface RemoteMedia {
  link: MediaLink;
  /** Video of the members the server forwards to this tab (those on screen), by user id. */
  videos: ReadonlyMap<number, MediaStream>;
  /** Audio of every member who sends it. */
  audios: readonly { userId: number; stream: MediaStream }[];
  /**
   * The session is new: not connected yet, or connected for less than the media server needs
   * for a first verdict (its 2 s window and a little): "no video" now means "not yet".
   */
  settling: boolean;
}

export const REMOTE_IDLE: RemoteMedia = { link: 'idle', videos: new Map(), audios: [], settling: true };

/** A connection `disconnected` this long gets an ICE restart (it often recovers by itself). */
const DISCONNECTED_GRACE_MS = 2_500;
/** ICE restarts at most this often. */
const RESTART_MIN_INTERVAL_MS = 4_000;
/** Not connected this long after answering: ICE restart, then a new session at twice that. */
const CONNECT_WATCHDOG_MS = 12_000;
/** A new session after the server said its media server is off or shutting down. */
const UNAVAILABLE_RETRY_MS = 15_000;
/** After connecting, how long "no video" is taken as "not yet" (the verdict needs a 2 s window). */
const SETTLE_MS = 6_000;
/** Changes of the tiles within this long go to the server as one `rtcView`. */
const VIEW_DEBOUNCE_MS = 120;

interface SfuOptions {
  room: number;
  selfId: number;
  send: (frame: ClientFrame) => boolean;
  onChange: () => void;
  /** Expose the connection as `window.__ssgwanPc` (tests, debugging). */
  debug?: boolean;
}

declare global {
  interface Window {
    /** With the debug flag: the room's current RTCPeerConnection to the server. */
    __ssgwanPc?: RTCPeerConnection | null;
    /** With the debug flag: every RTCPeerConnection the room opened (closed ones included). */
    __ssgwanPcs?: RTCPeerConnection[];
    /** With the debug flag: the last offer's publish mids and tracks, and its revision. */
    __ssgwanRtc?: {
      revision: number;
      publish: PublishMids | null;
      tracks: TrackInfo[];
      starts: number;
      restarts: number;
      offers: { revision: number; mids: string[]; tracks: string[]; outcome: string }[];
    };
  }
}

export class SfuSession {
  private pc: RTCPeerConnection | null = null;
  private queue: OfferQueue<RtcOffer>;
  private iceServers: RTCIceServer[] = [];
  private local: MediaStream | null = null;
  private micOn = false;
  private publish: PublishMids | null = null;
  private tracks: TrackInfo[] = [];
  /** The tiles wanted, and the last ones the server was told (null: not yet in this session). */
  private view: ViewTile[] = [];
  private sentView: ViewTile[] | null = null;
  private viewTimer: ReturnType<typeof setTimeout> | undefined;
  /** An answer went out in the current session (the server has a session to tell things to). */
  private answered = false;
  private active = false;
  private everConnected = false;
  private unavailable = false;
  private readonly retry = new RetryDelay(1_000, 30_000);
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private disconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private watchdog: ReturnType<typeof setTimeout> | undefined;
  private lastRestart = 0;
  private settling = true;
  private settleTimer: ReturnType<typeof setTimeout> | undefined;
  private snapshot: RemoteMedia = REMOTE_IDLE;
  private readonly streams = new Map<string, MediaStream>();
  private readonly onOnline = () => this.restartIce('online');

  constructor(private readonly options: SfuOptions) {
    this.queue = this.newQueue();
    if (options.debug) {
      window.__ssgwanPcs ??= [];
      window.__ssgwanRtc = { revision: 0, publish: null, tracks: [], starts: 0, restarts: 0, offers: [] };
    }
  }

  getMedia(): RemoteMedia {
    return this.snapshot;
  }

  /** Fresh STUN/TURN servers (TURN credentials expire): for the next session and ICE restarts. */
  setIceServers(servers: RTCIceServer[]) {
    this.iceServers = servers;
    if (!this.pc) return;
    try {
      this.pc.setConfiguration({ ...this.pc.getConfiguration(), iceServers: servers });
    } catch {
      // A configuration the connection refuses keeps the old servers.
    }
  }

  /** Asks the server for a new media session (after every `joined`, and to recover). */
  begin() {
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    if (!this.active) {
      this.active = true;
      window.addEventListener('online', this.onOnline);
    }
    this.queue.started();
    this.answered = false;
    this.sentView = null;
    const sent = this.options.send({ type: 'rtcStart', room: this.options.room });
    if (sent && window.__ssgwanRtc) window.__ssgwanRtc.starts += 1;
    this.logEvent(sent ? 'rtcStart' : 'rtcStart not sent (socket down)');
    this.changed();
  }

  /** Leaving the room (or taken out of it): closes the connection and stops retrying. */
  end() {
    this.active = false;
    window.removeEventListener('online', this.onOnline);
    this.clearTimers();
    this.queue.close();
    this.queue = this.newQueue();
    this.closePc();
    this.unavailable = false;
    this.snapshot = REMOTE_IDLE;
    this.options.onChange();
  }

  /** The camera (and microphone) to send; the microphone only while `micOn`. */
  setLocal(stream: MediaStream | null, micOn: boolean) {
    this.local = stream;
    this.micOn = micOn;
    if (this.pc) void this.attachLocal(this.pc, false);
  }

  /** The members whose videos are on screen now. */
  setView(tiles: ViewTile[]) {
    this.view = tiles;
    clearTimeout(this.viewTimer);
    this.viewTimer = setTimeout(() => this.flushView(), VIEW_DEBOUNCE_MS);
  }

  onOffer(frame: RtcOffer) {
    if (!this.active) return;
    const decision = this.queue.push(frame);
    if (decision === 'drop') this.logOffer(frame, 'dropped');
  }

  onClosed(reason: RtcClosedReason) {
    this.logEvent(`rtcClosed ${reason}`);
    if (!this.active) return;
    // `replaced`: our own newer rtcStart; its session is on its way.
    if (reason === 'replaced') return;
    this.closePc();
    if (reason === 'left') {
      // Out of the room: the room joins again if it should, and `begin` follows its `joined`.
      this.changed();
      return;
    }
    // `timeout` and `moved` (the room's media went to another node): start again at once.
    if (reason === 'unavailable') this.unavailable = true;
    this.scheduleStart(reason === 'unavailable' ? UNAVAILABLE_RETRY_MS : 0);
    this.changed();
  }

  /** An `error` frame about media; true when it was one. */
  onError(code: string): boolean {
    if (code.startsWith('RTC_') || code === 'MEDIA_UNAVAILABLE' || code === 'NOT_IN_ROOM') this.logEvent(`error ${code}`);
    switch (code) {
      case 'RTC_STALE_REVISION':
        // A newer offer is on its way (or here already): its answer is what counts.
        return true;
      case 'RTC_BAD_ANSWER':
      case 'RTC_NOT_STARTED':
        if (this.active) {
          this.queue.started();
          this.closePc();
          this.scheduleStart(0);
          this.changed();
        }
        return true;
      case 'MEDIA_UNAVAILABLE':
        if (this.active) {
          this.closePc();
          this.unavailable = true;
          this.scheduleStart(UNAVAILABLE_RETRY_MS);
          this.changed();
        }
        return true;
      default:
        return false;
    }
  }

  // ---- negotiation ----

  private newQueue() {
    return new OfferQueue<RtcOffer>(
      (offer, fresh) => this.apply(offer, fresh),
      (offer, err) => this.offerFailed(offer, err),
    );
  }

  /**
   * The browser refused an offer (e.g. one whose m-lines do not follow the description it
   * holds): this connection cannot go on, so start a new session, after the usual pause.
   */
  private offerFailed(offer: RtcOffer, err: unknown) {
    this.logOffer(offer, `failed: ${err instanceof Error ? err.message : String(err)}`);
    if (!this.active) return;
    // Whatever else this session offers is for the connection just given up.
    this.queue.started();
    this.closePc();
    this.scheduleStart(0);
    this.changed();
  }

  /** With the debug flag: the last offers, their m-lines and what became of them. */
  private logOffer(offer: RtcOffer, outcome: string) {
    const rtc = window.__ssgwanRtc;
    if (!rtc) return;
    const mids = [...offer.sdp.matchAll(/^a=mid:(\S+)/gm)].map((m) => m[1] ?? '');
    rtc.offers.push({ revision: offer.revision, mids, tracks: offer.tracks.map((t) => `${t.mid}:${t.user}:${t.kind}`), outcome });
    if (rtc.offers.length > 30) rtc.offers.shift();
  }

  private logEvent(event: string) {
    const rtc = window.__ssgwanRtc;
    if (!rtc) return;
    rtc.offers.push({ revision: 0, mids: [], tracks: [], outcome: event });
    if (rtc.offers.length > 30) rtc.offers.shift();
  }

  /** Applies one offer: a new connection for a new session, then the answer. */
  private async apply(offer: RtcOffer, fresh: boolean) {
    if (!this.active) return;
    // A later revision of a session whose connection is gone: only a new session's first offer helps.
    if (fresh) {
      this.closePc();
      this.settle();
      this.pc = this.createPc();
      this.answered = false;
      this.sentView = null;
    }
    const pc = this.pc;
    if (!pc) return;
    this.unavailable = false;
    await pc.setRemoteDescription({ type: 'offer', sdp: offer.sdp });
    if (pc !== this.pc) return;
    this.publish = offer.publish;
    this.tracks = offer.tracks;
    await this.attachLocal(pc, true);
    const answer = await pc.createAnswer();
    await pc.setLocalDescription(answer);
    if (pc !== this.pc || !this.active) return;
    const sdp = pc.localDescription?.sdp ?? answer.sdp ?? '';
    this.options.send({ type: 'rtcAnswer', room: this.options.room, revision: offer.revision, sdp });
    this.answered = true;
    this.logOffer(offer, fresh ? 'answered (new connection)' : 'answered');
    if (window.__ssgwanRtc) Object.assign(window.__ssgwanRtc, { revision: offer.revision, publish: offer.publish, tracks: offer.tracks });
    this.armWatchdog(pc);
    this.refreshRemote();
    this.flushView();
  }

  /**
   * Puts the camera and microphone on the publish m-lines. While negotiating (`negotiating`)
   * it also sets their direction to `sendonly`, before the answer is made.
   */
  private async attachLocal(pc: RTCPeerConnection, negotiating: boolean) {
    const publish = this.publish;
    if (!publish) return;
    const video = this.local?.getVideoTracks()[0] ?? null;
    const audio = this.micOn ? (this.local?.getAudioTracks()[0] ?? null) : null;
    const wanted: [string, MediaStreamTrack | null][] = [
      [publish.video, video],
      [publish.audio, audio],
    ];
    for (const [mid, track] of wanted) {
      const transceiver = pc.getTransceivers().find((t) => t.mid === mid);
      if (!transceiver || transceiver.direction === 'stopped') continue;
      if (negotiating) transceiver.direction = 'sendonly';
      if (transceiver.sender.track !== track) {
        try {
          await transceiver.sender.replaceTrack(track);
        } catch (err) {
          console.warn('[ssgwan] could not send the', track?.kind ?? 'track', err);
        }
      }
    }
  }

  private flushView() {
    clearTimeout(this.viewTimer);
    if (!this.active || !this.answered || sameTiles(this.sentView, this.view)) return;
    const tiles = this.view;
    if (this.options.send({ type: 'rtcView', room: this.options.room, tiles })) this.sentView = tiles;
  }

  // ---- the connection ----

  private createPc(): RTCPeerConnection {
    const pc = new RTCPeerConnection({ iceServers: this.iceServers, bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require' });
    if (this.options.debug) {
      window.__ssgwanPc = pc;
      window.__ssgwanPcs?.push(pc);
    }
    pc.ontrack = () => this.refreshRemote();
    pc.onconnectionstatechange = () => this.onConnectionState(pc);
    return pc;
  }

  private onConnectionState(pc: RTCPeerConnection) {
    if (pc !== this.pc) return;
    const state = pc.connectionState;
    if (state === 'connected') {
      this.everConnected = true;
      this.retry.reset();
      if (this.settling && this.settleTimer === undefined) {
        this.settleTimer = setTimeout(() => {
          this.settleTimer = undefined;
          this.settling = false;
          this.changed();
        }, SETTLE_MS);
      }
      clearTimeout(this.disconnectTimer);
      clearTimeout(this.watchdog);
    } else if (state === 'disconnected') {
      clearTimeout(this.disconnectTimer);
      this.disconnectTimer = setTimeout(() => {
        if (pc === this.pc && pc.connectionState === 'disconnected') this.restartIce('disconnected');
      }, DISCONNECTED_GRACE_MS);
    } else if (state === 'failed') {
      this.restartIce('failed');
    }
    this.changed();
  }

  /** Asks the server for fresh ICE credentials (a network change); a new session if that fails too. */
  private restartIce(why: string) {
    const pc = this.pc;
    if (!this.active || !pc || !this.answered) return;
    const now = Date.now();
    if (now - this.lastRestart < RESTART_MIN_INTERVAL_MS) return;
    this.lastRestart = now;
    console.info('[ssgwan] ICE restart:', why);
    if (this.options.send({ type: 'rtcRestart', room: this.options.room }) && window.__ssgwanRtc) window.__ssgwanRtc.restarts += 1;
    this.armWatchdog(pc);
  }

  /** A connection that does not come up in time: ICE restart first, then a new session. */
  private armWatchdog(pc: RTCPeerConnection) {
    clearTimeout(this.watchdog);
    if (pc.connectionState === 'connected') return;
    this.watchdog = setTimeout(() => {
      if (pc !== this.pc || pc.connectionState === 'connected') return;
      this.lastRestart = 0;
      this.restartIce('not connected');
      clearTimeout(this.watchdog);
      this.watchdog = setTimeout(() => {
        if (pc === this.pc && pc.connectionState !== 'connected') this.scheduleStart(0);
      }, CONNECT_WATCHDOG_MS);
    }, CONNECT_WATCHDOG_MS);
  }

  /** A new session after a pause; one already scheduled is kept (refusals arrive in bursts). */
  private scheduleStart(minMs: number) {
    if (this.retryTimer !== undefined) return;
    const delay = this.retry.next(minMs);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.active) this.begin();
    }, delay);
  }

  private closePc() {
    clearTimeout(this.disconnectTimer);
    clearTimeout(this.watchdog);
    const pc = this.pc;
    this.pc = null;
    this.publish = null;
    this.tracks = [];
    this.answered = false;
    this.streams.clear();
    if (this.options.debug && window.__ssgwanPc === pc) window.__ssgwanPc = null;
    if (!pc) return;
    pc.ontrack = pc.onconnectionstatechange = null;
    pc.close();
  }

  /** A new connection: its first verdict is some seconds away. */
  private settle() {
    clearTimeout(this.settleTimer);
    this.settleTimer = undefined;
    this.settling = true;
  }

  private clearTimers() {
    clearTimeout(this.settleTimer);
    this.settleTimer = undefined;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    clearTimeout(this.viewTimer);
    clearTimeout(this.disconnectTimer);
    clearTimeout(this.watchdog);
  }

  // ---- what the room renders ----

  /** The members' streams from the current tracks; a stream object is kept while its track is the same. */
  private refreshRemote() {
    const pc = this.pc;
    const byMid = new Map<string, MediaStreamTrack>();
    for (const t of pc?.getTransceivers() ?? []) {
      if (t.mid !== null && t.direction !== 'stopped') byMid.set(t.mid, t.receiver.track);
    }
    const members = memberTracks(this.tracks, (mid) => (this.publish && (mid === this.publish.video || mid === this.publish.audio) ? null : (byMid.get(mid) ?? null)), this.options.selfId);
    const videos = new Map<number, MediaStream>();
    const audios: { userId: number; stream: MediaStream }[] = [];
    const used = new Set<string>();
    for (const [userId, media] of members) {
      if (media.video) videos.set(userId, this.streamFor(`v:${userId}`, media.video, used));
      if (media.audio) audios.push({ userId, stream: this.streamFor(`a:${userId}`, media.audio, used) });
    }
    for (const key of [...this.streams.keys()]) if (!used.has(key)) this.streams.delete(key);
    this.snapshot = { link: this.link(), videos, audios, settling: this.settling };
    this.options.onChange();
  }

  private streamFor(key: string, track: MediaStreamTrack, used: Set<string>): MediaStream {
    used.add(key);
    const existing = this.streams.get(key);
    if (existing && existing.getTracks()[0] === track) return existing;
    // A new stream object for a new track, so the element picks it up.
    const stream = new MediaStream([track]);
    this.streams.set(key, stream);
    return stream;
  }

  private link(): MediaLink {
    if (!this.active) return 'idle';
    if (this.unavailable) return 'unavailable';
    return linkOf(this.pc?.connectionState ?? null, this.everConnected);
  }

  private changed() {
    const link = this.link();
    if (this.pc) {
      this.refreshRemote();
      return;
    }
    this.snapshot = { link, videos: new Map(), audios: [], settling: this.settling };
    this.options.onChange();
  }
}
