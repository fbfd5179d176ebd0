/**
 * The room's chat as plain data: confirmed messages (ordered by id), the messages this tab sent
 * that the server has not confirmed yet, and how a gap in the ids is found and filled. Pure
 * functions; the room controller does the sending and the timers.
 *
 * Chat ids count up 1, 2, 3… per room, so a `chat` frame that skips ids means frames were lost
 * (the server's shared store was briefly down): those messages were stored, and are fetched
 * over HTTP and slotted in.
 */
import { errorCodes } from '../../api/errorCodes';
import { CHAT_MAX, CHAT_MIN } from '../../api/limits';
import type { MessagePage } from '../../api/types';
import type { MessageQuery } from '../../api/chat';
import type { ChatMessage } from '../protocol';
import type { PendingMessage } from './store';

/** The history endpoint's largest page. */
export const GAP_PAGE = 100;
/** Most pages fetched to fill one gap (more was missed than the room would ever scroll back). */
export const GAP_PAGES_MAX = 5;
export const PENDING_TIMEOUT_MS = 15_000;
/** Codes that refuse a chat message (they carry the room but not the clientId). */
export const CHAT_REFUSALS = errorCodes('RATE_LIMITED', 'VALIDATION_FAILED', 'FRAME_TOO_LARGE');

// ---- confirmed messages ----

/** `current` with `incoming` added, one message per id (the later copy wins), ordered by id. */
export function mergeMessages(current: ChatMessage[], incoming: ChatMessage[]): ChatMessage[] {
  if (incoming.length === 0) return current;
  const byId = new Map(current.map((m) => [m.id, m]));
  for (const m of incoming) byId.set(m.id, m);
  return [...byId.values()].sort((a, b) => a.id - b.id);
}

/** The newest id seen: `lastId` or the last of `messages` (ordered by id), whichever is larger. */
export function newestId(lastId: number | null, messages: ChatMessage[]): number | null {
  const last = messages[messages.length - 1];
  return last && (lastId === null || last.id > lastId) ? last.id : lastId;
}

/** The ids strictly between `after` and `before` are missing. */
export interface Gap {
  after: number;
  before: number;
}

/** The gap a message with id `id` opens after the newest id seen, if it skips any. */
export function findGap(seen: number | null, id: number): Gap | null {
  return seen !== null && id > seen + 1 ? { after: seen, before: id } : null;
}

export interface ChatState {
  messages: ChatMessage[];
  pending: PendingMessage[];
  lastId: number | null;
}

/**
 * A `chat` frame arrived: the message joins the confirmed ones and, when it carries the
 * `clientId` of one of ours, that pending copy goes (it is confirmed, not shown twice).
 */
export function receiveChat(state: ChatState, message: ChatMessage, clientId: string | null): ChatState & { gap: Gap | null } {
  const messages = mergeMessages(state.messages, [message]);
  const pending = clientId ? state.pending.filter((p) => p.clientId !== clientId) : state.pending;
  return { messages, pending, lastId: newestId(state.lastId, messages), gap: findGap(state.lastId, message.id) };
}

/**
 * The `joined` answer's replay merged in. `truncated`: more was missed than the server replays,
 * so only the replayed (newest) part is kept after its first id, and history pages back from
 * there (`olderBefore`).
 */
export function applyReplay(
  messages: ChatMessage[],
  missed: ChatMessage[],
  truncated: boolean,
): { messages: ChatMessage[]; olderBefore: number | null } {
  const oldest = truncated ? missed[0]?.id : undefined;
  if (oldest === undefined) return { messages: mergeMessages(messages, missed), olderBefore: null };
  return { messages: mergeMessages(messages.filter((m) => m.id >= oldest), missed), olderBefore: oldest };
}

// ---- filling a gap ----

/**
 * Fetches the messages of `gap` not shown yet, newest page first, handing each page's finds to
 * `found`. Returns null when done, or the `before` to start again from when a request failed.
 * `alive` says whether the room still wants the answer (checked after every request).
 */
export async function fillGap(
  gap: Gap,
  shown: () => ReadonlySet<number>,
  fetchPage: (query: Required<MessageQuery>) => Promise<MessagePage>,
  found: (messages: ChatMessage[]) => void,
  alive: () => boolean,
): Promise<{ retryBefore: number } | null> {
  const { after } = gap;
  const have = shown();
  let upTo = gap.before;
  // The newest part of the gap may have arrived meanwhile.
  while (upTo - 1 > after && have.has(upTo - 1)) upTo -= 1;
  for (let page = 0; page < GAP_PAGES_MAX && upTo - 1 > after; page++) {
    let answer: MessagePage;
    try {
      answer = await fetchPage({ before: upTo, limit: Math.min(GAP_PAGE, upTo - after - 1) });
    } catch {
      return { retryBefore: upTo };
    }
    if (!alive()) return null;
    const inGap = answer.items.filter((m) => m.id > after && m.id < upTo);
    if (inGap.length > 0) found(inGap);
    const oldest = answer.items[0]?.id;
    if (oldest === undefined || answer.nextBefore === null || answer.nextBefore === undefined) return null;
    upTo = oldest;
  }
  return null;
}

// ---- messages not confirmed yet ----

/** The text as it would be sent (trimmed), or null when it is empty or too long. */
export function chatBody(text: string): string | null {
  const body = text.trim();
  const length = [...body].length;
  return length >= CHAT_MIN && length <= CHAT_MAX ? body : null;
}

export function newPending(body: string, clientId: string, now: number): PendingMessage {
  return { clientId, body, status: 'sending', error: null, sentAt: now };
}

/** The messages still sending, stamped as sent again `now` (after a rejoin they all go again). */
export function resendPending(pending: PendingMessage[], now: number): PendingMessage[] {
  return pending.map((p) => (p.status === 'sending' ? { ...p, sentAt: now } : p));
}

/**
 * A refusal names no clientId; the oldest message still sending is the one it answers (frames of
 * one connection are handled in order). A wrong guess is harmless: retrying resends the same
 * clientId, which the server stores only once.
 */
export function refuseOldest(pending: PendingMessage[], code: string): PendingMessage[] {
  const index = pending.findIndex((p) => p.status === 'sending');
  const item = pending[index];
  if (!item) return pending;
  const next = [...pending];
  next[index] = { ...item, status: 'failed', error: code };
  return next;
}

/** Messages unanswered for longer than the timeout fail with TIMEOUT; the same array when none did. */
export function expirePending(pending: PendingMessage[], now: number, timeoutMs = PENDING_TIMEOUT_MS): PendingMessage[] {
  let changed = false;
  const next = pending.map((p) => {
    if (p.status === 'sending' && now - p.sentAt > timeoutMs) {
      changed = true;
      return { ...p, status: 'failed' as const, error: 'TIMEOUT' };
    }
    return p;
  });
  return changed ? next : pending;
}

/** A failed message sent again. */
export function retryPending(pending: PendingMessage[], clientId: string, now: number): PendingMessage[] {
  return pending.map((p) => (p.clientId === clientId ? { ...p, status: 'sending' as const, error: null, sentAt: now } : p));
}
