/**
 * The tab's one WebSocket to `/api/ws` (docs/protocol.md). Everything real-time shares it:
 * rooms subscribe to frames and to the connection state, and are told each time the socket
 * (re)opens so they can `join` again.
 *
 * - Opened while at least one user holds it (`acquire`), closed shortly after the last lets go.
 * - A dropped socket (network, server restart) is reopened with exponential back-off and
 *   jitter (backoff.ts: 0.5 s doubling up to 15 s), at once when the browser comes back online
 *   or the tab becomes visible again.
 * - A `ping` every 20 s; a socket that has said nothing for 45 s is treated as dead (the TCP
 *   connection can hang without a close event) and replaced.
 * - When the upgrade keeps failing because the session is gone (the server answers 401, which a
 *   browser cannot see), the state becomes `signedOut` and no more attempts are made.
 * - The server's close codes (docs/protocol.md) decide what happens next: 4409/4410 (too many
 *   sockets for this user or from this address) stop the attempts (`tooManySockets`, until the
 *   user asks to retry after closing other tabs); 4401 (signed out) is `signedOut`; 4429 (the
 *   tab sent too many frames) reconnects after a long back-off rather than at once.
 */
import { reconnectDelay } from './backoff';
import { parseFrame, type ClientFrame, type ServerFrame } from './protocol';

export type ConnectionState = 'idle' | 'connecting' | 'live' | 'reconnecting' | 'signedOut' | 'tooManySockets';

/** The close codes of docs/protocol.md the client acts on. */
export const CLOSE_CODES = {
  signedOut: 4401,
  tooManySocketsOfUser: 4409,
  tooManySocketsFromAddress: 4410,
  flooding: 4429,
} as const;

/** Failed attempts a 4429 close counts as, so the next one waits about 8 s. */
const FLOODING_ATTEMPTS = 4;

const PING_EVERY_MS = 20_000;
const SILENCE_LIMIT_MS = 45_000;
/** Keeps the socket through a quick unmount/mount (React StrictMode, a route change between rooms). */
const RELEASE_DELAY_MS = 1_000;

type Listener<T> = (value: T) => void;

/** The gateway's URL; `lang` makes the server's error messages speak the page's language. */
function socketUrl(): string {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const lang = (globalThis.document as Document | undefined)?.documentElement?.lang;
  const query = lang === 'ko' || lang === 'en' ? `?lang=${lang}` : '';
  return `${scheme}//${location.host}/api/ws${query}`;
}

export class RealtimeSocket {
  private ws: WebSocket | null = null;
  private state: ConnectionState = 'idle';
  private holders = 0;
  /** Failed attempts since the socket was last open. */
  private attempt = 0;
  private lastHeard = 0;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private releaseTimer: ReturnType<typeof setTimeout> | undefined;
  private pingTimer: ReturnType<typeof setInterval> | undefined;
  private readonly frameListeners = new Set<Listener<ServerFrame>>();
  private readonly stateListeners = new Set<Listener<ConnectionState>>();
  private readonly openListeners = new Set<() => void>();
  private windowHooked = false;
  /** Test hook: incoming frames this says yes to are dropped, as if never delivered. */
  private lose: ((frame: ServerFrame) => boolean) | null = null;

  /** `random` picks the jitter of each reconnect wait (tests pass a fixed one). */
  constructor(private readonly random: () => number = Math.random) {}

  getState(): ConnectionState {
    return this.state;
  }

  /** Hold the socket open; the returned function lets go. */
  acquire(): () => void {
    this.holders += 1;
    clearTimeout(this.releaseTimer);
    this.hookWindow();
    if (this.state === 'idle' || this.state === 'signedOut' || this.state === 'tooManySockets') {
      this.attempt = 0;
      this.connect();
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.holders -= 1;
      if (this.holders === 0) {
        this.releaseTimer = setTimeout(() => this.shutdown(), RELEASE_DELAY_MS);
      }
    };
  }

  onFrame(listener: Listener<ServerFrame>): () => void {
    this.frameListeners.add(listener);
    return () => this.frameListeners.delete(listener);
  }

  onState(listener: Listener<ConnectionState>): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  /** Called every time the socket opens (first time and after each reconnect). */
  onOpen(listener: () => void): () => void {
    this.openListeners.add(listener);
    return () => this.openListeners.delete(listener);
  }

  isOpen(): boolean {
    return this.ws !== null && this.ws.readyState === WebSocket.OPEN && this.state === 'live';
  }

  /** Sends a frame when the socket is open; returns whether it went out. */
  send(frame: ClientFrame): boolean {
    if (!this.isOpen() || !this.ws) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  /** Skip the remaining back-off (the user pressed "retry", the network came back). */
  reconnectNow(): void {
    if (this.holders === 0) return;
    if (this.state === 'reconnecting' || this.state === 'signedOut' || this.state === 'tooManySockets') {
      clearTimeout(this.retryTimer);
      if (!this.ws) this.connect();
    }
  }

  /** Drops the connection as a network failure would (for tests and the debug console). */
  simulateDrop(): void {
    if (this.ws) this.dropped(this.ws);
  }

  /**
   * Loses the incoming frames `predicate` picks (null: none) as a server outage would, e.g. chat
   * frames a node never fanned out (for tests and the debug console).
   */
  simulateLoss(predicate: ((frame: ServerFrame) => boolean) | null): void {
    this.lose = predicate;
  }

  /** Handles `frame` as if the server had sent it (for tests and the debug console). */
  simulateFrame(frame: ServerFrame): void {
    this.dispatch(frame);
  }

  private dispatch(frame: ServerFrame) {
    if (this.lose?.(frame)) return;
    for (const listener of [...this.frameListeners]) listener(frame);
  }

  private setState(next: ConnectionState) {
    if (this.state === next) return;
    this.state = next;
    for (const listener of [...this.stateListeners]) listener(next);
  }

  private connect() {
    clearTimeout(this.retryTimer);
    this.setState(this.attempt === 0 && this.state !== 'reconnecting' ? 'connecting' : 'reconnecting');
    let ws: WebSocket;
    try {
      ws = new WebSocket(socketUrl());
    } catch {
      this.scheduleRetry(false);
      return;
    }
    this.ws = ws;
    let opened = false;

    ws.onopen = () => {
      if (this.ws !== ws) return;
      opened = true;
      this.attempt = 0;
      this.lastHeard = Date.now();
      this.setState('live');
      this.startKeepalive();
      for (const listener of [...this.openListeners]) listener();
    };
    ws.onmessage = (event: MessageEvent) => {
      if (this.ws !== ws) return;
      this.lastHeard = Date.now();
      if (typeof event.data !== 'string') return;
      const frame = parseFrame(event.data);
      if (!frame || frame.type === 'pong') return;
      this.dispatch(frame);
    };
    ws.onclose = (event?: CloseEvent) => {
      if (this.ws !== ws) return;
      this.closedByServer(ws, opened, event?.code);
    };
    // An error is always followed by close; nothing to do twice.
    ws.onerror = null;
  }

  /** The socket closed; the server's close code says whether and when to try again. */
  private closedByServer(ws: WebSocket, opened: boolean, code: number | undefined) {
    if (code === CLOSE_CODES.tooManySocketsOfUser || code === CLOSE_CODES.tooManySocketsFromAddress) {
      this.stopTrying(ws, 'tooManySockets');
      return;
    }
    if (code === CLOSE_CODES.signedOut) {
      this.stopTrying(ws, 'signedOut');
      return;
    }
    if (code === CLOSE_CODES.flooding) this.attempt = Math.max(this.attempt, FLOODING_ATTEMPTS);
    this.dropped(ws, opened && code !== CLOSE_CODES.flooding);
  }

  /** The server refused this tab: no more attempts until `acquire` or `reconnectNow`. */
  private stopTrying(ws: WebSocket, state: ConnectionState) {
    ws.onopen = ws.onmessage = ws.onclose = null;
    if (this.ws === ws) this.ws = null;
    this.stopKeepalive();
    clearTimeout(this.retryTimer);
    this.setState(this.holders === 0 ? 'idle' : state);
  }

  /** The socket is gone (closed by either side, or declared dead). */
  private dropped(ws: WebSocket, opened = true) {
    ws.onopen = ws.onmessage = ws.onclose = null;
    try {
      ws.close();
    } catch {
      // Already closing.
    }
    if (this.ws === ws) this.ws = null;
    this.stopKeepalive();
    if (this.holders === 0) {
      this.setState('idle');
      return;
    }
    this.scheduleRetry(opened);
  }

  private scheduleRetry(wasOpen: boolean) {
    this.setState('reconnecting');
    const wait = reconnectDelay(this.attempt, this.random);
    this.attempt += 1;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      if (this.holders === 0) return;
      if (!wasOpen && this.attempt >= 2) {
        // The upgrade failed more than once: find out whether the session is the reason.
        void this.checkSession().then((signedIn) => {
          if (this.holders === 0 || this.ws) return;
          if (signedIn) this.connect();
          else this.setState('signedOut');
        });
      } else {
        this.connect();
      }
    }, wait);
  }

  private async checkSession(): Promise<boolean> {
    try {
      const response = await fetch('/api/me', { credentials: 'same-origin', headers: { Accept: 'application/json' } });
      return response.status !== 401;
    } catch {
      // The server is unreachable: not a session problem, keep trying.
      return true;
    }
  }

  private startKeepalive() {
    this.stopKeepalive();
    this.pingTimer = setInterval(() => {
      const ws = this.ws;
      if (!ws) return;
      if (Date.now() - this.lastHeard > SILENCE_LIMIT_MS) {
        this.dropped(ws);
        return;
      }
      this.send({ type: 'ping' });
    }, PING_EVERY_MS);
  }

  private stopKeepalive() {
    clearInterval(this.pingTimer);
    this.pingTimer = undefined;
  }

  private shutdown() {
    if (this.holders > 0) return;
    clearTimeout(this.retryTimer);
    const ws = this.ws;
    this.ws = null;
    this.stopKeepalive();
    if (ws) {
      ws.onopen = ws.onmessage = ws.onclose = null;
      ws.close(1000);
    }
    this.attempt = 0;
    this.setState('idle');
  }

  private hookWindow() {
    if (this.windowHooked) return;
    this.windowHooked = true;
    window.addEventListener('online', () => this.reconnectNow());
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'visible') this.reconnectNow();
    });
  }
}

/** The tab's socket. */
export const realtime = new RealtimeSocket();
