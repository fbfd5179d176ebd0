import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BACKOFF_BASE_MS, BACKOFF_MAX_MS, reconnectDelay } from './backoff';
import { RealtimeSocket } from './socket';

describe('reconnectDelay', () => {
  it('doubles from 0.5 s per attempt up to 15 s (the full delay at the top of the jitter)', () => {
    const top = () => 1;
    expect([0, 1, 2, 3, 4, 5, 6].map((n) => reconnectDelay(n, top))).toEqual([500, 1000, 2000, 4000, 8000, 15_000, 15_000]);
    expect(reconnectDelay(50, top)).toBe(BACKOFF_MAX_MS);
  });

  it('waits between half of and the full delay, as the jitter picks', () => {
    expect(reconnectDelay(0, () => 0)).toBe(BACKOFF_BASE_MS / 2);
    expect(reconnectDelay(0, () => 0.5)).toBe(375);
    expect(reconnectDelay(3, () => 0)).toBe(2000);
    expect(reconnectDelay(20, () => 0)).toBe(BACKOFF_MAX_MS / 2);
  });

  it('spreads waits with the default jitter', () => {
    for (let i = 0; i < 200; i++) {
      const wait = reconnectDelay(2);
      expect(wait).toBeGreaterThanOrEqual(1000);
      expect(wait).toBeLessThanOrEqual(2000);
    }
  });
});

/** Just enough of a browser WebSocket for RealtimeSocket: tests open and close it by hand. */
class FakeWebSocket {
  static readonly OPEN = 1;
  static all: FakeWebSocket[] = [];
  readyState = 0;
  onopen: (() => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onclose: ((event?: { code: number }) => void) | null = null;
  onerror: (() => void) | null = null;
  readonly sent: string[] = [];

  constructor(readonly url: string) {
    FakeWebSocket.all.push(this);
  }

  send(text: string) {
    this.sent.push(text);
  }

  close() {
    this.readyState = 3;
  }

  serverOpens() {
    this.readyState = FakeWebSocket.OPEN;
    this.onopen?.();
  }

  serverCloses(code = 1006) {
    this.readyState = 3;
    this.onclose?.({ code });
  }
}

describe('RealtimeSocket reconnecting', () => {
  let sessionStatus = 200;

  beforeEach(() => {
    vi.useFakeTimers();
    FakeWebSocket.all = [];
    sessionStatus = 200;
    vi.stubGlobal('WebSocket', FakeWebSocket);
    vi.stubGlobal('location', { protocol: 'http:', host: 'ssgwan.test' });
    vi.stubGlobal('window', { addEventListener: () => {} });
    vi.stubGlobal('document', { addEventListener: () => {}, visibilityState: 'visible' });
    vi.stubGlobal('fetch', () => Promise.resolve({ status: sessionStatus }));
  });

  afterEach(() => {
    vi.useRealTimers();
    vi.unstubAllGlobals();
  });

  const sockets = () => FakeWebSocket.all.length;
  const latest = () => FakeWebSocket.all[FakeWebSocket.all.length - 1]!;

  it('backs off longer after each failed attempt and starts over once a socket opens', async () => {
    const socket = new RealtimeSocket(() => 0);
    const states: string[] = [];
    socket.onState((s) => states.push(s));
    socket.acquire();
    expect(latest().url).toBe('ws://ssgwan.test/api/ws');
    latest().serverOpens();
    expect(socket.getState()).toBe('live');

    latest().serverCloses();
    expect(socket.getState()).toBe('reconnecting');
    // First retry: 500 ms with the jitter at its low end, 250 ms.
    await vi.advanceTimersByTimeAsync(249);
    expect(sockets()).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(sockets()).toBe(2);

    // The upgrade fails: the next wait doubles.
    latest().serverCloses();
    await vi.advanceTimersByTimeAsync(499);
    expect(sockets()).toBe(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(sockets()).toBe(3);

    latest().serverCloses();
    await vi.advanceTimersByTimeAsync(999);
    expect(sockets()).toBe(3);
    await vi.advanceTimersByTimeAsync(1);
    expect(sockets()).toBe(4);

    // Open again: the back-off starts over.
    latest().serverOpens();
    latest().serverCloses();
    await vi.advanceTimersByTimeAsync(250);
    expect(sockets()).toBe(5);
    expect(states).toEqual(['connecting', 'live', 'reconnecting', 'live', 'reconnecting']);
  });

  it('gives up as signed out when the upgrade keeps failing and the session is gone', async () => {
    const socket = new RealtimeSocket(() => 0);
    socket.acquire();
    sessionStatus = 401;
    latest().serverCloses();
    await vi.advanceTimersByTimeAsync(250);
    latest().serverCloses();
    await vi.advanceTimersByTimeAsync(500);
    expect(socket.getState()).toBe('signedOut');
    const count = sockets();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(sockets()).toBe(count);
  });

  it('skips the rest of the wait on reconnectNow', async () => {
    const socket = new RealtimeSocket(() => 0);
    socket.acquire();
    latest().serverOpens();
    latest().serverCloses();
    expect(sockets()).toBe(1);
    socket.reconnectNow();
    expect(sockets()).toBe(2);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(sockets()).toBe(2);
  });

  it('stops trying when the server says the user has too many sockets, until asked again', async () => {
    const socket = new RealtimeSocket(() => 0);
    socket.acquire();
    latest().serverOpens();
    latest().serverCloses(4409);
    expect(socket.getState()).toBe('tooManySockets');
    await vi.advanceTimersByTimeAsync(60_000);
    expect(sockets()).toBe(1);
    // The user closed another tab and retries.
    socket.reconnectNow();
    expect(sockets()).toBe(2);
    latest().serverOpens();
    expect(socket.getState()).toBe('live');
    // Too many from the address: the same.
    latest().serverCloses(4410);
    expect(socket.getState()).toBe('tooManySockets');
    await vi.advanceTimersByTimeAsync(60_000);
    expect(sockets()).toBe(2);
  });

  it('is signed out at once on 4401 and waits long before reconnecting after 4429', async () => {
    const socket = new RealtimeSocket(() => 0);
    socket.acquire();
    latest().serverOpens();
    latest().serverCloses(4401);
    expect(socket.getState()).toBe('signedOut');
    await vi.advanceTimersByTimeAsync(60_000);
    expect(sockets()).toBe(1);

    socket.reconnectNow();
    latest().serverOpens();
    latest().serverCloses(4429);
    expect(socket.getState()).toBe('reconnecting');
    // Not the 250 ms of an ordinary drop: 8 s at the low end of the jitter, 4 s.
    await vi.advanceTimersByTimeAsync(3_999);
    expect(sockets()).toBe(2);
    await vi.advanceTimersByTimeAsync(1);
    await vi.advanceTimersByTimeAsync(0);
    expect(sockets()).toBe(3);
  });
});
