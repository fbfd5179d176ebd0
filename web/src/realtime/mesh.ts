/**
 * The video mesh of one room: one RTCPeerConnection per other member, negotiated over the
 * room's `signal` frames with the perfect-negotiation pattern
 * (https://w3c.github.io/webrtc-pc/#perfect-negotiation-example). The member with the lower
 * user id is the polite peer: on colliding offers it rolls its own back and answers.
 *
 * Signal payloads are `{sid, hello}`, `{sid, description}` or `{sid, candidate}`; `sid` names
 * the sending connection object. The server addresses signals to users, not tabs, so `sid` is how a peer
 * tells a fresh connection from the other side (a reload, a second tab) from stale messages of
 * one that is gone: a hello or an offer from an unknown `sid` replaces the connection, anything
 * else from an unknown `sid` is dropped.
 */

interface SignalData {
  sid: string;
  /** First message of every connection. */
  hello?: true;
  description?: RTCSessionDescriptionInit;
  candidate?: RTCIceCandidateInit | null;
}

export type PeerState = 'connecting' | 'connected' | 'failed';

export interface RemotePeer {
  userId: number;
  stream: MediaStream | null;
  state: PeerState;
}

interface Peer {
  userId: number;
  pc: RTCPeerConnection;
  polite: boolean;
  sid: string;
  remoteSid: string | null;
  makingOffer: boolean;
  ignoreOffer: boolean;
  /** Incoming signals are applied one after another. */
  queue: Promise<void>;
  stream: MediaStream | null;
  closed: boolean;
  createdAt: number;
  /** A signal that mattered could not be sent (socket down): start over after the rejoin. */
  dirty: boolean;
  /** Restarts ICE when the connection does not come up (see `watch`). */
  watchdog: ReturnType<typeof setTimeout> | undefined;
  stuckChecks: number;
}

/** How long a connection may take to come up before a rejoin starts it over. */
const SETUP_GRACE_MS = 8_000;
/** A connection not up this long after negotiating gets an ICE restart (then 2×, 4× as long). */
const STUCK_MS = 6_000;
const MAX_STUCK_CHECKS = 4;

interface MeshOptions {
  selfId: number;
  iceServers: RTCIceServer[];
  sendSignal: (to: number, data: SignalData) => boolean;
  onChange: () => void;
  /** Expose the connections as `window.__ssgwanPeers` (tests, debugging). */
  debug?: boolean;
}

declare global {
  interface Window {
    __ssgwanPeers?: Map<number, RTCPeerConnection>;
    /** Offers that collided with our own (glare), and how many of them this side ignored. */
    __ssgwanGlare?: { collisions: number; ignored: number };
  }
}

function newSid(): string {
  return Math.random().toString(36).slice(2, 10) + Date.now().toString(36);
}

function isSignalData(value: unknown): value is SignalData {
  return typeof value === 'object' && value !== null && typeof (value as { sid?: unknown }).sid === 'string';
}

export class PeerMesh {
  private readonly peers = new Map<number, Peer>();
  /** Who the server last said is in the room (besides us). */
  private readonly members = new Set<number>();
  private localStream: MediaStream | null = null;
  private closed = false;
  private snapshot: RemotePeer[] = [];

  private readonly options: MeshOptions;

  constructor(options: MeshOptions) {
    this.options = { ...options };
    if (options.debug) {
      window.__ssgwanPeers = new Map();
      window.__ssgwanGlare ??= { collisions: 0, ignored: 0 };
    }
  }

  /** The remote side of every connection, for rendering; a new array after every change. */
  getPeers(): RemotePeer[] {
    return this.snapshot;
  }

  /** Fresh STUN/TURN settings (TURN credentials expire): used by new connections and ICE restarts. */
  setIceServers(iceServers: RTCIceServer[]) {
    this.options.iceServers = iceServers;
    for (const peer of this.peers.values()) {
      try {
        peer.pc.setConfiguration({ ...peer.pc.getConfiguration(), iceServers });
      } catch {
        // A configuration the connection refuses keeps the old servers.
      }
    }
  }

  /** The camera/microphone to send; `null` sends nothing (receiving still works). */
  setLocalStream(stream: MediaStream | null) {
    this.localStream = stream;
    for (const peer of this.peers.values()) this.attachLocalTracks(peer);
  }

  /**
   * After `joined`: connect to every member listed. Connections to users no longer listed are
   * closed, except ones still carrying media (after a server restart the others rejoin a moment
   * later; the browsers' connection never depended on the server). Connections that are not up
   * start over, since their negotiation may have been lost with the socket.
   */
  sync(memberIds: number[]) {
    const listed = new Set(memberIds.filter((id) => id !== this.options.selfId));
    this.members.clear();
    for (const id of listed) this.members.add(id);
    for (const [userId, peer] of this.peers) {
      const state = peer.pc.connectionState;
      const up = state === 'connected';
      const settingUp = (state === 'new' || state === 'connecting') && Date.now() - peer.createdAt < SETUP_GRACE_MS;
      if (!listed.has(userId) && !up) this.remove(userId);
      else if (listed.has(userId) && (peer.dirty || (!up && !settingUp))) this.connect(userId, true);
    }
    for (const userId of listed) if (!this.peers.has(userId)) this.connect(userId);
  }

  /** A member joined (`presence join`): connect, keeping a connection that is still alive. */
  connect(userId: number, restart = false) {
    if (this.closed || userId === this.options.selfId) return;
    this.members.add(userId);
    const existing = this.peers.get(userId);
    if (existing && !restart) {
      const s = existing.pc.connectionState;
      if (s === 'new' || s === 'connecting' || s === 'connected') return;
    }
    this.create(userId);
  }

  /** A member left (`presence leave`). */
  remove(userId: number) {
    this.members.delete(userId);
    const peer = this.peers.get(userId);
    if (!peer) return;
    this.closePeer(peer);
    this.peers.delete(userId);
    window.__ssgwanPeers?.delete(userId);
    this.changed();
  }

  handleSignal(from: number, data: unknown) {
    if (this.closed || !isSignalData(data)) return;
    let peer = this.peers.get(from);
    const opens = data.hello === true || data.description?.type === 'offer';
    if (!peer || (peer.remoteSid !== null && peer.remoteSid !== data.sid)) {
      // A connection we don't know: only its hello or an offer may start one; anything else
      // is left over from a connection that is gone.
      if (!opens && peer) return;
      this.members.add(from);
      peer = this.create(from);
    }
    if (peer.remoteSid === null) {
      // Bind to the other side's connection on its hello or a description, never on a stray
      // candidate (which may be left over from one of theirs that is gone).
      if (!opens && !data.description) return;
      peer.remoteSid = data.sid;
    }
    if (data.hello) return;
    const target = peer;
    target.queue = target.queue
      .then(() => this.apply(target, data))
      .catch((err: unknown) => console.warn('[ssgwan] signal from', from, 'failed', err));
  }

  close() {
    this.closed = true;
    for (const peer of this.peers.values()) this.closePeer(peer);
    this.peers.clear();
    window.__ssgwanPeers?.clear();
    this.changed();
  }

  private create(userId: number): Peer {
    const old = this.peers.get(userId);
    if (old) this.closePeer(old);

    const pc = new RTCPeerConnection({ iceServers: this.options.iceServers });
    const peer: Peer = {
      userId,
      pc,
      polite: this.options.selfId < userId,
      sid: newSid(),
      remoteSid: null,
      makingOffer: false,
      ignoreOffer: false,
      queue: Promise.resolve(),
      stream: null,
      closed: false,
      createdAt: Date.now(),
      dirty: false,
      watchdog: undefined,
      stuckChecks: 0,
    };
    this.peers.set(userId, peer);
    window.__ssgwanPeers?.set(userId, pc);

    pc.onnegotiationneeded = async () => {
      try {
        peer.makingOffer = true;
        await pc.setLocalDescription();
        if (peer.closed || !pc.localDescription) return;
        this.signal(peer, { sid: peer.sid, description: pc.localDescription.toJSON() });
      } catch (err) {
        if (!peer.closed) console.warn('[ssgwan] offer to', userId, 'failed', err);
      } finally {
        peer.makingOffer = false;
      }
    };
    pc.onicecandidate = ({ candidate }) => {
      if (peer.closed) return;
      this.signal(peer, { sid: peer.sid, candidate: candidate ? candidate.toJSON() : null });
    };
    pc.ontrack = ({ track }) => {
      if (peer.closed) return;
      // A fresh stream object each time, so the <video> element picks the new track up.
      const tracks = peer.stream ? peer.stream.getTracks().filter((t) => t.kind !== track.kind) : [];
      peer.stream = new MediaStream([...tracks, track]);
      track.addEventListener('unmute', () => this.changed());
      this.changed();
    };
    pc.oniceconnectionstatechange = () => {
      if (pc.iceConnectionState === 'failed') pc.restartIce();
    };
    pc.onconnectionstatechange = () => {
      // A connection kept through a rejoin ends once it fails and its user is not back.
      if ((pc.connectionState === 'failed' || pc.connectionState === 'closed') && !this.members.has(userId)) {
        this.remove(userId);
        return;
      }
      if (pc.connectionState === 'connected') {
        peer.stuckChecks = 0;
        clearTimeout(peer.watchdog);
      } else if (pc.connectionState === 'disconnected') {
        this.watch(peer);
      }
      this.changed();
    };
    this.watch(peer);

    this.attachLocalTracks(peer);
    // Introduce this connection. Without a camera it would never offer, and the other side may
    // still hold a connection to an earlier one of ours; a hello from a new `sid` makes it start
    // over (and offer its own tracks).
    this.signal(peer, { sid: peer.sid, hello: true });
    this.changed();
    return peer;
  }

  /** Sends a signal; one lost while the socket is down marks the connection for a fresh start. */
  private signal(peer: Peer, data: SignalData) {
    const sent = this.options.sendSignal(peer.userId, data);
    if (!sent && (data.description || peer.pc.connectionState !== 'connected')) peer.dirty = true;
  }

  /**
   * Sends the local camera/microphone: a new track of a kind already sent replaces the old one
   * in place; otherwise addTrack (which fires negotiationneeded and renegotiates).
   */
  private attachLocalTracks(peer: Peer) {
    const stream = this.localStream;
    if (!stream || peer.closed) return;
    const senders = peer.pc.getSenders();
    for (const track of stream.getTracks()) {
      const sender = senders.find((s) => s.track?.kind === track.kind);
      if (sender) {
        if (sender.track !== track) void sender.replaceTrack(track);
      } else {
        peer.pc.addTrack(track, stream);
      }
    }
  }

  private async apply(peer: Peer, data: SignalData) {
    if (peer.closed) return;
    const { pc } = peer;
    if (data.description) {
      const description = data.description;
      const offerCollision = description.type === 'offer' && (peer.makingOffer || pc.signalingState !== 'stable');
      peer.ignoreOffer = !peer.polite && offerCollision;
      if (offerCollision && window.__ssgwanGlare) {
        window.__ssgwanGlare.collisions += 1;
        if (peer.ignoreOffer) window.__ssgwanGlare.ignored += 1;
      }
      if (peer.ignoreOffer) return;
      await pc.setRemoteDescription(description);
      if (description.type === 'offer') {
        await pc.setLocalDescription();
        if (peer.closed || !pc.localDescription) return;
        this.signal(peer, { sid: peer.sid, description: pc.localDescription.toJSON() });
      }
    } else if (data.candidate !== undefined) {
      try {
        // `null` marks the end of the remote candidates.
        await pc.addIceCandidate(data.candidate ?? undefined);
      } catch (err) {
        if (!peer.ignoreOffer) throw err;
      }
    }
  }

  /**
   * A negotiated connection that does not come up (candidates lost with a dropped socket, a
   * network that changed under it) gets an ICE restart, a few times with growing pauses.
   */
  private watch(peer: Peer) {
    clearTimeout(peer.watchdog);
    if (peer.closed || peer.stuckChecks >= MAX_STUCK_CHECKS) return;
    peer.watchdog = setTimeout(() => {
      const { pc } = peer;
      if (peer.closed || pc.connectionState === 'connected') return;
      peer.stuckChecks += 1;
      if (pc.signalingState === 'stable' && pc.remoteDescription) pc.restartIce();
      this.watch(peer);
    }, STUCK_MS * 2 ** peer.stuckChecks);
  }

  private closePeer(peer: Peer) {
    peer.closed = true;
    clearTimeout(peer.watchdog);
    peer.pc.onnegotiationneeded = peer.pc.onicecandidate = peer.pc.ontrack = null;
    peer.pc.oniceconnectionstatechange = peer.pc.onconnectionstatechange = null;
    peer.pc.close();
  }

  private changed() {
    this.snapshot = [...this.peers.values()].map((peer) => ({
      userId: peer.userId,
      stream: peer.stream,
      state:
        peer.pc.connectionState === 'connected'
          ? 'connected'
          : peer.pc.connectionState === 'failed'
            ? 'failed'
            : 'connecting',
    }));
    this.options.onChange();
  }
}
