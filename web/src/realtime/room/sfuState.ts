/**
 * The pure rules of the room's one media connection to the server (sfu.ts does the WebRTC):
 * which offers to apply and in what order, which members' videos the screen shows (the grid's
 * pages and the `rtcView` tiles), which received track is whose, and how long to wait before
 * asking for a new media session. No browser APIs here, so Vitest covers all of it.
 */
import type { TrackInfo, ViewTile } from '../protocol';

/** Tiles on one page of the video grid (the server forwards at most 25 videos to a tab). */
export const GRID_PAGE_SIZE = 25;

/** A tile is "large" (gets the bigger picture) when at most this many tiles are on screen. */
export const LARGE_TILES_MAX = 2;

export interface GridPage<T> {
  /** The page shown, 0-based, clamped to the pages there are. */
  page: number;
  pageCount: number;
  /** The members on that page, in the order given. */
  items: T[];
}

/** One page of the other members' tiles; a page past the end shows the last one. */
export function gridPage<T>(others: readonly T[], page: number, pageSize = GRID_PAGE_SIZE): GridPage<T> {
  const pageCount = Math.max(1, Math.ceil(others.length / pageSize));
  const clamped = Math.min(Math.max(0, Math.floor(Number.isFinite(page) ? page : 0)), pageCount - 1);
  return { page: clamped, pageCount, items: others.slice(clamped * pageSize, (clamped + 1) * pageSize) };
}

/**
 * The `rtcView` tiles for the members shown: `tilesOnScreen` counts every tile on screen (the
 * own preview too); `wide` says the screen has room for big tiles (not a phone).
 */
export function viewTiles(userIds: readonly number[], selfId: number, tilesOnScreen: number, wide: boolean): ViewTile[] {
  const size: ViewTile['size'] = wide && tilesOnScreen <= LARGE_TILES_MAX ? 'large' : 'small';
  const seen = new Set<number>();
  const tiles: ViewTile[] = [];
  for (const user of userIds) {
    if (user === selfId || seen.has(user)) continue;
    seen.add(user);
    tiles.push({ user, size });
    if (tiles.length === GRID_PAGE_SIZE) break;
  }
  return tiles;
}

/** Same tiles, in the same order, at the same sizes. */
export function sameTiles(a: readonly ViewTile[] | null, b: readonly ViewTile[] | null): boolean {
  if (a === null || b === null) return a === b;
  return a.length === b.length && a.every((tile, i) => tile.user === b[i]?.user && tile.size === b[i]?.size);
}

/** What to do with an offer that just arrived. */
export type OfferDecision = 'newSession' | 'apply' | 'drop';

/**
 * Revisions of the server's offers. Every media session numbers its offers 1, 2, ...; so an
 * offer with revision 1 always opens a new session (a new RTCPeerConnection), and after this
 * tab asked for a session (`rtcStart`) nothing but a revision 1 is for it: later revisions are
 * left over from the session it replaces. Within a session an offer not newer than the last
 * one applied is stale.
 */
export class OfferRevisions {
  private last = 0;
  private waitingForFirst = true;

  /** This tab sent `rtcStart`: only the new session's first offer counts now. */
  started() {
    this.waitingForFirst = true;
  }

  decide(revision: number): OfferDecision {
    if (!Number.isSafeInteger(revision) || revision < 1) return 'drop';
    if (revision === 1) {
      this.waitingForFirst = false;
      this.last = 1;
      return 'newSession';
    }
    if (this.waitingForFirst || revision <= this.last) return 'drop';
    this.last = revision;
    return 'apply';
  }
}

/**
 * Offers applied one at a time: while one is being applied, newer ones wait, and only the newest
 * of those is applied next (each offer describes the whole session, and the server wants the
 * answer to its newest). A `newSession` offer passes that on to the one that replaces it.
 */
export class OfferQueue<T extends { revision: number }> {
  private readonly revisions = new OfferRevisions();
  private pending: { offer: T; fresh: boolean } | null = null;
  private busy = false;
  private closed = false;

  /** `failed` hears of an offer the browser refused (the session then needs starting afresh). */
  constructor(
    private readonly run: (offer: T, fresh: boolean) => Promise<void>,
    private readonly failed: (offer: T, error: unknown) => void = () => undefined,
  ) {}

  /** This tab asked for a new session. */
  started() {
    this.revisions.started();
    this.pending = null;
  }

  /** Takes an offer; returns what was decided for it. */
  push(offer: T): OfferDecision {
    if (this.closed) return 'drop';
    const decision = this.revisions.decide(offer.revision);
    if (decision === 'drop') return decision;
    const fresh = decision === 'newSession' || (this.pending?.fresh ?? false);
    this.pending = { offer, fresh };
    if (!this.busy) void this.drain();
    return decision;
  }

  /** Whether an offer is being applied or waiting. */
  get idle(): boolean {
    return !this.busy && this.pending === null;
  }

  /** Drops what waits and ignores everything from now on. */
  close() {
    this.closed = true;
    this.pending = null;
  }

  private async drain() {
    this.busy = true;
    try {
      while (this.pending && !this.closed) {
        const { offer, fresh } = this.pending;
        this.pending = null;
        try {
          await this.run(offer, fresh);
        } catch (err) {
          // One offer failing (a description the browser refuses) must not stop the next.
          console.warn('[ssgwan] applying the server offer failed', err);
          if (!this.closed) this.failed(offer, err);
        }
      }
    } finally {
      this.busy = false;
    }
  }
}

/** A member's received tracks. */
export interface MemberTracks<Track> {
  video: Track | null;
  audio: Track | null;
}

/**
 * Whose tracks the receiving m-lines carry: `tracks` from the offer, `trackOf` finds the
 * receiver's track of a mid (none when the m-line is not in the description). Mids not listed
 * are recycled slots and belong to nobody; a user never gets two tracks of one kind (the
 * first listed wins), and `selfId`'s are never shown.
 */
export function memberTracks<Track>(
  tracks: readonly TrackInfo[],
  trackOf: (mid: string) => Track | null,
  selfId: number,
): Map<number, MemberTracks<Track>> {
  const out = new Map<number, MemberTracks<Track>>();
  for (const info of tracks) {
    if (info.user === selfId || (info.kind !== 'video' && info.kind !== 'audio')) continue;
    const track = trackOf(info.mid);
    if (track === null) continue;
    const entry = out.get(info.user) ?? { video: null, audio: null };
    if (entry[info.kind] === null) entry[info.kind] = track;
    out.set(info.user, entry);
  }
  return out;
}

/** Waits before asking for a new media session again, doubling up to a cap; reset once connected. */
export class RetryDelay {
  private attempts = 0;

  constructor(
    private readonly firstMs = 1_000,
    private readonly maxMs = 30_000,
  ) {}

  /** The wait before the next attempt (at least `minMs`). */
  next(minMs = 0): number {
    const delay = Math.min(this.maxMs, this.firstMs * 2 ** this.attempts);
    this.attempts = Math.min(this.attempts + 1, 16);
    return Math.max(minMs, delay);
  }

  reset() {
    this.attempts = 0;
  }
}

/** How the media connection is doing, as the room shows it. */
export type MediaLink = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'unavailable';

/** The link shown for a peer connection state (`unavailable` and `idle` come from the server's answers). */
export function linkOf(state: RTCPeerConnectionState | null, everConnected: boolean): MediaLink {
  switch (state) {
    case 'connected':
      return 'connected';
    case 'disconnected':
    case 'failed':
      return 'reconnecting';
    case 'closed':
    case null:
      return everConnected ? 'reconnecting' : 'connecting';
    default:
      return everConnected ? 'reconnecting' : 'connecting';
  }
}
