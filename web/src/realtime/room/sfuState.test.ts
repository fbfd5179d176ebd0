import { describe, expect, it } from 'vitest';
import type { TrackInfo } from '../protocol';
import { GRID_PAGE_SIZE, OfferQueue, OfferRevisions, RetryDelay, gridPage, linkOf, memberTracks, sameTiles, viewTiles } from './sfuState';

const range = (n: number, from = 1) => Array.from({ length: n }, (_, i) => i + from);

describe('gridPage', () => {
  it('pages 25 tiles at a time and clamps the page', () => {
    const others = range(51);
    expect(gridPage(others, 0)).toEqual({ page: 0, pageCount: 3, items: range(25) });
    expect(gridPage(others, 1).items).toEqual(range(25, 26));
    expect(gridPage(others, 2).items).toEqual([51]);
    // Someone left and the last page is gone: the last page there is.
    expect(gridPage(others.slice(0, 30), 2)).toEqual({ page: 1, pageCount: 2, items: range(5, 26) });
    expect(gridPage(others, -3).page).toBe(0);
    expect(gridPage(others, Number.NaN).page).toBe(0);
  });

  it('has one (empty) page when alone', () => {
    expect(gridPage([], 4)).toEqual({ page: 0, pageCount: 1, items: [] });
  });
});

describe('viewTiles', () => {
  it('names each member once, never yourself, at most a page', () => {
    expect(viewTiles([2, 3, 2, 7], 7, 4, true)).toEqual([
      { user: 2, size: 'small' },
      { user: 3, size: 'small' },
    ]);
    expect(viewTiles(range(40), 100, 26, true)).toHaveLength(GRID_PAGE_SIZE);
  });

  it('asks for large pictures only when one or two tiles fill a wide screen', () => {
    expect(viewTiles([2], 1, 2, true)).toEqual([{ user: 2, size: 'large' }]);
    expect(viewTiles([2], 1, 2, false)).toEqual([{ user: 2, size: 'small' }]);
    expect(viewTiles([2, 3], 1, 3, true).map((t) => t.size)).toEqual(['small', 'small']);
  });

  it('sameTiles compares users, order and sizes', () => {
    const a = viewTiles([2, 3], 1, 3, true);
    expect(sameTiles(a, viewTiles([2, 3], 1, 3, true))).toBe(true);
    expect(sameTiles(a, viewTiles([3, 2], 1, 3, true))).toBe(false);
    expect(sameTiles(viewTiles([2], 1, 2, true), viewTiles([2], 1, 2, false))).toBe(false);
    expect(sameTiles(null, [])).toBe(false);
    expect(sameTiles(null, null)).toBe(true);
  });
});

describe('OfferRevisions', () => {
  it('opens a session on revision 1 and applies newer revisions only', () => {
    const r = new OfferRevisions();
    expect(r.decide(2)).toBe('drop'); // before any session: left over from an older one
    expect(r.decide(1)).toBe('newSession');
    expect(r.decide(2)).toBe('apply');
    expect(r.decide(2)).toBe('drop');
    expect(r.decide(4)).toBe('apply');
    expect(r.decide(3)).toBe('drop');
    expect(r.decide(0)).toBe('drop');
    expect(r.decide(1.5)).toBe('drop');
  });

  it('after rtcStart, drops the old session\'s offers until the new one\'s first', () => {
    const r = new OfferRevisions();
    r.decide(1);
    r.decide(2);
    r.started();
    expect(r.decide(3)).toBe('drop');
    expect(r.decide(1)).toBe('newSession');
    expect(r.decide(2)).toBe('apply');
  });

  it('takes a revision 1 as a new session even unasked (the server started afresh)', () => {
    const r = new OfferRevisions();
    r.decide(1);
    r.decide(5);
    expect(r.decide(1)).toBe('newSession');
    expect(r.decide(2)).toBe('apply');
  });
});

/** A promise resolved from outside. */
function gate() {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

const flush = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('OfferQueue', () => {
  it('applies one offer at a time and skips to the newest waiting one', async () => {
    const runs: { revision: number; fresh: boolean }[] = [];
    const gates: ReturnType<typeof gate>[] = [];
    let running = 0;
    let overlap = false;
    const queue = new OfferQueue<{ revision: number }>(async (offer, fresh) => {
      running += 1;
      overlap ||= running > 1;
      runs.push({ revision: offer.revision, fresh });
      const g = gate();
      gates.push(g);
      await g.promise;
      running -= 1;
    });
    expect(queue.push({ revision: 1 })).toBe('newSession');
    expect(queue.push({ revision: 2 })).toBe('apply');
    expect(queue.push({ revision: 3 })).toBe('apply');
    expect(queue.idle).toBe(false);
    await flush();
    expect(runs).toEqual([{ revision: 1, fresh: true }]);
    gates[0]?.open();
    await flush();
    // Revision 2 was never applied: 3 replaced it while 1 was being applied.
    expect(runs).toEqual([
      { revision: 1, fresh: true },
      { revision: 3, fresh: false },
    ]);
    gates[1]?.open();
    await flush();
    expect(queue.idle).toBe(true);
    expect(overlap).toBe(false);
  });

  it('keeps the new-session mark when a newer offer replaces a waiting first one', async () => {
    const runs: { revision: number; fresh: boolean }[] = [];
    const first = gate();
    const queue = new OfferQueue<{ revision: number }>(async (offer, fresh) => {
      runs.push({ revision: offer.revision, fresh });
      if (runs.length === 1) await first.promise;
    });
    queue.push({ revision: 1 });
    queue.push({ revision: 2 });
    queue.started(); // a new session asked for: what waits is dropped
    expect(queue.push({ revision: 3 })).toBe('drop');
    queue.push({ revision: 1 });
    queue.push({ revision: 2 });
    first.open();
    await flush();
    await flush();
    expect(runs).toEqual([
      { revision: 1, fresh: true },
      { revision: 2, fresh: true },
    ]);
  });

  it('reports an offer that fails, goes on, and does nothing once closed', async () => {
    const runs: number[] = [];
    const warn = console.warn;
    console.warn = () => undefined;
    try {
      const failed: number[] = [];
      const queue = new OfferQueue<{ revision: number }>(
        (offer) => {
          runs.push(offer.revision);
          return offer.revision === 1 ? Promise.reject(new Error('refused')) : Promise.resolve();
        },
        (offer) => failed.push(offer.revision),
      );
      queue.push({ revision: 1 });
      await flush();
      queue.push({ revision: 2 });
      await flush();
      expect(runs).toEqual([1, 2]);
      // The refusal was reported (the session starts afresh), the success was not.
      expect(failed).toEqual([1]);
      queue.close();
      expect(queue.push({ revision: 3 })).toBe('drop');
      await flush();
      expect(runs).toEqual([1, 2]);
    } finally {
      console.warn = warn;
    }
  });
});

describe('memberTracks', () => {
  const tracks: TrackInfo[] = [
    { mid: '2', user: 10, kind: 'video' },
    { mid: '3', user: 10, kind: 'audio' },
    { mid: '4', user: 11, kind: 'audio' },
    { mid: '5', user: 12, kind: 'video' },
    { mid: '6', user: 10, kind: 'video' },
    { mid: '7', user: 1, kind: 'video' },
  ];
  const receivers: Record<string, string> = { '2': 'v2', '3': 'a3', '4': 'a4', '6': 'v6', '7': 'v7', '8': 'v8' };

  it('maps mids to members, skipping absent m-lines, duplicates and yourself', () => {
    const out = memberTracks(tracks, (mid) => receivers[mid] ?? null, 1);
    expect([...out.entries()]).toEqual([
      [10, { video: 'v2', audio: 'a3' }],
      [11, { video: null, audio: 'a4' }],
    ]);
  });

  it('a recycled mid follows its new member', () => {
    const before = memberTracks([{ mid: '2', user: 10, kind: 'video' }], (mid) => receivers[mid] ?? null, 1);
    const after = memberTracks([{ mid: '2', user: 13, kind: 'video' }], (mid) => receivers[mid] ?? null, 1);
    expect(before.get(10)?.video).toBe('v2');
    expect(after.has(10)).toBe(false);
    expect(after.get(13)?.video).toBe('v2');
  });
});

describe('RetryDelay', () => {
  it('doubles to the cap, honours a minimum and resets', () => {
    const d = new RetryDelay(1_000, 8_000);
    expect([d.next(), d.next(), d.next(), d.next(), d.next()]).toEqual([1_000, 2_000, 4_000, 8_000, 8_000]);
    d.reset();
    expect(d.next(5_000)).toBe(5_000);
    expect(d.next()).toBe(2_000);
  });
});

describe('linkOf', () => {
  it('tells a first connection from a reconnection', () => {
    expect(linkOf('new', false)).toBe('connecting');
    expect(linkOf('connecting', true)).toBe('reconnecting');
    expect(linkOf('connected', true)).toBe('connected');
    expect(linkOf('disconnected', true)).toBe('reconnecting');
    expect(linkOf('failed', false)).toBe('reconnecting');
    expect(linkOf(null, false)).toBe('connecting');
  });
});
