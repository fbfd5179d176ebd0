/**
 * The frames of the real-time protocol at `/api/ws` (docs/protocol.md). Every frame is a JSON
 * object with a string `type`; client frames must carry exactly these fields (the server
 * refuses unknown ones).
 */

export interface Member {
  userId: number;
  nickname: string;
  profileImage: string | null;
  camera: boolean;
  mic: boolean;
}

export interface ChatMessage {
  /** Increases within the room, in the order messages were stored. */
  id: number;
  room: number;
  userId: number;
  nickname: string;
  body: string;
  /** RFC 3339 instant. */
  createdAt: string;
}

export type ClientFrame =
  | { type: 'join'; room: number; since?: number }
  | { type: 'leave'; room: number }
  | { type: 'chat'; room: number; body: string; clientId: string }
  | { type: 'signal'; room: number; to: number; data: unknown }
  | { type: 'media'; room: number; camera: boolean; mic: boolean }
  | { type: 'ping' };

export type ServerFrame =
  | { type: 'joined'; room: number; members: Member[]; missed: ChatMessage[]; truncated?: boolean }
  | { type: 'presence'; room: number; event: 'join' | 'leave' | 'media'; user: Member }
  | { type: 'chat'; room: number; message: ChatMessage; clientId?: string | null }
  | { type: 'signal'; room: number; from: number; data: unknown }
  | { type: 'attendance'; room: number; date: string; seconds: number; achieved: boolean; requiredSeconds?: number }
  | { type: 'ranking'; [key: string]: unknown }
  | { type: 'notice'; room: number; notice: string | null }
  | { type: 'error'; code: string; message: string; room?: number }
  | { type: 'pong' };

/** Error codes the server sends in `error` frames; anything else reads as a generic failure. */
export const ERROR_CODES = [
  'MALFORMED_JSON',
  'MISSING_TYPE',
  'UNKNOWN_TYPE',
  'INVALID_FRAME',
  'FRAME_TOO_LARGE',
  'UNSUPPORTED_FRAME',
  'FORBIDDEN',
  'NOT_IN_ROOM',
  'PEER_NOT_IN_ROOM',
  'VALIDATION_FAILED',
  'RATE_LIMITED',
  'SERVICE_UNAVAILABLE',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export function isErrorCode(code: string): code is ErrorCode {
  return (ERROR_CODES as readonly string[]).includes(code);
}

/** A parsed frame, or null when the text is not a frame of ours (ignored, never thrown on). */
export function parseFrame(text: string): ServerFrame | null {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string') {
      return value as ServerFrame;
    }
  } catch {
    // Not JSON: nothing the server should send; drop it.
  }
  return null;
}
