/** A live room's chat history over HTTP (`GET /api/challenges/{id}/messages`). */
import { api } from './client';
import type { MessagePage } from './types';

export interface MessageQuery {
  /** Only messages with smaller ids; absent: the newest page. */
  before?: number;
  limit: number;
}

/** The newest `limit` messages before `before`, oldest first. */
export function fetchMessages(room: number, { before, limit }: MessageQuery): Promise<MessagePage> {
  return api<MessagePage>(`/api/challenges/${room}/messages`, { query: { before, limit } });
}
