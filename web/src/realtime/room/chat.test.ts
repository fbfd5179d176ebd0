import { describe, expect, it } from 'vitest';
import type { MessagePage } from '../../api/types';
import type { ChatMessage } from '../protocol';
import {
  GAP_PAGE,
  GAP_PAGES_MAX,
  applyReplay,
  chatBody,
  expirePending,
  fillGap,
  findGap,
  mergeMessages,
  newPending,
  newestId,
  receiveChat,
  refuseOldest,
  resendPending,
  retryPending,
} from './chat';
import type { PendingMessage } from './store';

function msg(id: number, body = `m${id}`): ChatMessage {
  return { id, room: 7, userId: 1, nickname: 'ana', body, createdAt: '2026-01-01T00:00:00Z' };
}

const ids = (messages: ChatMessage[]) => messages.map((m) => m.id);

function pending(clientId: string, status: PendingMessage['status'] = 'sending', sentAt = 0): PendingMessage {
  return { clientId, body: clientId, status, error: status === 'failed' ? 'RATE_LIMITED' : null, sentAt };
}

describe('mergeMessages', () => {
  it('orders by id whatever order the messages arrive in', () => {
    expect(ids(mergeMessages([msg(2), msg(5)], [msg(4), msg(1), msg(3)]))).toEqual([1, 2, 3, 4, 5]);
  });

  it('keeps one message per id, the incoming copy winning', () => {
    const merged = mergeMessages([msg(1), msg(2, 'old')], [msg(2, 'new'), msg(2, 'newer'), msg(3)]);
    expect(ids(merged)).toEqual([1, 2, 3]);
    expect(merged[1]?.body).toBe('newer');
  });

  it('returns the same array when nothing comes in, and never changes its input', () => {
    const current = [msg(1), msg(3)];
    expect(mergeMessages(current, [])).toBe(current);
    mergeMessages(current, [msg(2)]);
    expect(ids(current)).toEqual([1, 3]);
  });
});

describe('receiveChat', () => {
  const base = { messages: [msg(1), msg(2)], pending: [pending('a'), pending('b')], lastId: 2 };

  it('confirms the pending copy with the same clientId and keeps the others', () => {
    const next = receiveChat(base, msg(3, 'a'), 'a');
    expect(ids(next.messages)).toEqual([1, 2, 3]);
    expect(next.pending.map((p) => p.clientId)).toEqual(['b']);
    expect(next.lastId).toBe(3);
    expect(next.gap).toBeNull();
  });

  it('leaves pending messages alone for someone else’s message (no clientId)', () => {
    const next = receiveChat(base, msg(3), null);
    expect(next.pending).toBe(base.pending);
  });

  it('shows a message once when its frame repeats one already shown', () => {
    const next = receiveChat(base, msg(2), 'b');
    expect(ids(next.messages)).toEqual([1, 2]);
    expect(next.pending.map((p) => p.clientId)).toEqual(['a']);
    expect(next.lastId).toBe(2);
    expect(next.gap).toBeNull();
  });

  it('reports the skipped ids as a gap', () => {
    expect(receiveChat(base, msg(6), null).gap).toEqual({ after: 2, before: 6 });
  });

  it('does not move the newest id back for an old message', () => {
    const next = receiveChat({ ...base, lastId: 9 }, msg(3), null);
    expect(next.lastId).toBe(9);
    expect(next.gap).toBeNull();
  });
});

describe('gap detection', () => {
  it('finds no gap before anything was seen, or when ids follow on', () => {
    expect(findGap(null, 10)).toBeNull();
    expect(findGap(4, 5)).toBeNull();
    expect(findGap(4, 4)).toBeNull();
    expect(findGap(4, 2)).toBeNull();
  });

  it('finds the ids strictly between the newest seen and the new one', () => {
    expect(findGap(4, 6)).toEqual({ after: 4, before: 6 });
    expect(findGap(0, 100)).toEqual({ after: 0, before: 100 });
  });

  it('newestId takes the larger of what was seen and the last message', () => {
    expect(newestId(null, [])).toBeNull();
    expect(newestId(null, [msg(1), msg(4)])).toBe(4);
    expect(newestId(7, [msg(1), msg(4)])).toBe(7);
  });
});

describe('applyReplay', () => {
  it('merges what was missed', () => {
    const replay = applyReplay([msg(1), msg(2)], [msg(3), msg(4)], false);
    expect(ids(replay.messages)).toEqual([1, 2, 3, 4]);
    expect(replay.olderBefore).toBeNull();
  });

  it('when truncated, drops what is older than the replay and pages back from its first id', () => {
    const replay = applyReplay([msg(1), msg(2), msg(9)], [msg(8), msg(10)], true);
    expect(ids(replay.messages)).toEqual([8, 9, 10]);
    expect(replay.olderBefore).toBe(8);
  });

  it('a truncated but empty replay changes nothing', () => {
    const current = [msg(1)];
    expect(applyReplay(current, [], true)).toEqual({ messages: current, olderBefore: null });
  });
});

describe('fillGap', () => {
  /** A server holding messages 1..=total that answers like GET /api/challenges/{id}/messages. */
  function server(total: number) {
    const queries: { before: number; limit: number }[] = [];
    const fetchPage = (query: { before: number; limit: number }): Promise<MessagePage> => {
      queries.push(query);
      const from = Math.max(1, query.before - query.limit);
      const items: ChatMessage[] = [];
      for (let id = from; id < query.before && id <= total; id++) items.push(msg(id));
      return Promise.resolve({ items, nextBefore: from > 1 ? from : null });
    };
    return { queries, fetchPage };
  }

  it('fetches exactly the missing ids and hands them over', async () => {
    const { queries, fetchPage } = server(20);
    const found: number[] = [];
    const result = await fillGap({ after: 4, before: 9 }, () => new Set([1, 2, 3, 4, 9]), fetchPage, (m) => found.push(...ids(m)), () => true);
    expect(result).toBeNull();
    expect(queries).toEqual([{ before: 9, limit: 4 }]);
    expect(found).toEqual([5, 6, 7, 8]);
  });

  it('skips the newest part of the gap that arrived meanwhile', async () => {
    const { queries, fetchPage } = server(20);
    await fillGap({ after: 4, before: 9 }, () => new Set([7, 8, 9]), fetchPage, () => {}, () => true);
    expect(queries).toEqual([{ before: 7, limit: 2 }]);
  });

  it('fetches nothing when the gap is already filled', async () => {
    const { queries, fetchPage } = server(20);
    await fillGap({ after: 4, before: 7 }, () => new Set([5, 6]), fetchPage, () => {}, () => true);
    expect(queries).toEqual([]);
  });

  it('pages back through a long gap, at most GAP_PAGES_MAX pages of GAP_PAGE', async () => {
    const { queries, fetchPage } = server(10_000);
    const found: number[] = [];
    await fillGap({ after: 0, before: 10_000 }, () => new Set(), fetchPage, (m) => found.push(...ids(m)), () => true);
    expect(queries).toHaveLength(GAP_PAGES_MAX);
    expect(queries[0]).toEqual({ before: 10_000, limit: GAP_PAGE });
    expect(queries[1]).toEqual({ before: 10_000 - GAP_PAGE, limit: GAP_PAGE });
    expect(found).toHaveLength(GAP_PAGES_MAX * GAP_PAGE);
  });

  it('keeps only ids inside the gap from a page', async () => {
    const fetchPage = () => Promise.resolve({ items: [msg(3), msg(5), msg(6), msg(9)], nextBefore: null });
    const found: number[] = [];
    await fillGap({ after: 4, before: 9 }, () => new Set(), fetchPage, (m) => found.push(...ids(m)), () => true);
    expect(found).toEqual([5, 6]);
  });

  it('says where to start again when a request fails', async () => {
    const fetchPage = () => Promise.reject(new Error('offline'));
    expect(await fillGap({ after: 4, before: 9 }, () => new Set([8]), fetchPage, () => {}, () => true)).toEqual({ retryBefore: 8 });
  });

  it('drops the answer once the room no longer wants it', async () => {
    const { fetchPage } = server(20);
    const found: number[] = [];
    await fillGap({ after: 4, before: 9 }, () => new Set(), fetchPage, (m) => found.push(...ids(m)), () => false);
    expect(found).toEqual([]);
  });
});

describe('pending messages', () => {
  it('chatBody trims and takes 1 to 1000 characters, counted as code points', () => {
    expect(chatBody('  hi  ')).toBe('hi');
    expect(chatBody('   ')).toBeNull();
    expect(chatBody('가'.repeat(1000))).toBe('가'.repeat(1000));
    expect(chatBody('가'.repeat(1001))).toBeNull();
    // 1000 emoji are 2000 UTF-16 units but 1000 characters.
    expect(chatBody('😀'.repeat(1000))).not.toBeNull();
    expect(chatBody('😀'.repeat(1001))).toBeNull();
  });

  it('a new message is sending', () => {
    expect(newPending('hi', 'c1', 5)).toEqual({ clientId: 'c1', body: 'hi', status: 'sending', error: null, sentAt: 5 });
  });

  it('a refusal fails the oldest message still sending', () => {
    const list = [pending('a', 'failed'), pending('b'), pending('c')];
    const next = refuseOldest(list, 'RATE_LIMITED');
    expect(next.map((p) => [p.clientId, p.status, p.error])).toEqual([
      ['a', 'failed', 'RATE_LIMITED'],
      ['b', 'failed', 'RATE_LIMITED'],
      ['c', 'sending', null],
    ]);
    expect(list[1]?.status).toBe('sending');
  });

  it('a refusal with nothing sending changes nothing', () => {
    const list = [pending('a', 'failed')];
    expect(refuseOldest(list, 'VALIDATION_FAILED')).toBe(list);
  });

  it('messages unanswered past the timeout fail with TIMEOUT; the array stays the same when none did', () => {
    const list = [pending('old', 'sending', 0), pending('new', 'sending', 10_000), pending('gone', 'failed', 0)];
    const next = expirePending(list, 15_001, 15_000);
    expect(next.map((p) => [p.clientId, p.status, p.error])).toEqual([
      ['old', 'failed', 'TIMEOUT'],
      ['new', 'sending', null],
      ['gone', 'failed', 'RATE_LIMITED'],
    ]);
    expect(expirePending(list, 15_000, 15_000)).toBe(list);
  });

  it('retrying sends again; rejoining restamps only what is still sending', () => {
    const list = [pending('a', 'failed', 1), pending('b', 'sending', 1)];
    expect(retryPending(list, 'a', 9)[0]).toEqual({ clientId: 'a', body: 'a', status: 'sending', error: null, sentAt: 9 });
    expect(resendPending(list, 9).map((p) => p.sentAt)).toEqual([1, 9]);
  });
});
