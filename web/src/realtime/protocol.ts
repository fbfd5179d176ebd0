/**
 * The frames of the real-time protocol at `/api/ws` (docs/protocol.md). Every frame is a JSON
 * object with a string `type`; client frames must carry exactly these fields (the server
 * refuses unknown ones). The codes of `error` frames are in api/errorCodes.json with the HTTP
 * ones; `code` stays a string here because a newer server may send one this build lacks.
 */
import type { AppNotification } from '../api/notifications';
import type { ChatMessage } from '../api/types';

export type { ChatMessage };

export interface Member {
  userId: number;
  nickname: string;
  profileImage: string | null;
  camera: boolean;
  mic: boolean;
}

/** A member's video on this tab's screen (`rtcView`): big tiles get the larger picture. */
export interface ViewTile {
  user: number;
  size: 'small' | 'large';
}

/** The m-lines of the server's offer on which this tab sends its camera and microphone. */
export interface PublishMids {
  video: string;
  audio: string;
}

/** Which member a receiving m-line of the server's offer carries. */
export interface TrackInfo {
  mid: string;
  user: number;
  kind: 'video' | 'audio';
}

/** Why the server's media server does not count this tab's video (`camera`). */
export type UnverifiedReason = 'noVideo' | 'lowFrameRate' | 'tinyFrames' | 'stalled';

/** A member whose video or audio a host stopped (`mediaStops`): the server forwards it to nobody. */
export interface MediaStop {
  user: number;
  video: boolean;
  audio: boolean;
}

/** Why the server ended this tab's media session (`rtcClosed`). */
export type RtcClosedReason = 'timeout' | 'replaced' | 'left' | 'unavailable' | 'moved';

/** Why the server took this tab out of a room (docs/protocol.md, `left`). */
export type LeftReason = 'cancelled' | 'ended' | 'deleted' | 'removed';

export type ClientFrame =
  | { type: 'join'; room: number; since?: number }
  | { type: 'leave'; room: number }
  | { type: 'chat'; room: number; body: string; clientId: string }
  | { type: 'media'; room: number; camera: boolean; mic: boolean }
  | { type: 'rtcStart'; room: number }
  | { type: 'rtcAnswer'; room: number; revision: number; sdp: string }
  | { type: 'rtcView'; room: number; tiles: ViewTile[] }
  | { type: 'rtcRestart'; room: number }
  | { type: 'ping' };

export type ServerFrame =
  | { type: 'joined'; room: number; members: Member[]; missed: ChatMessage[]; truncated?: boolean }
  | { type: 'presence'; room: number; event: 'join' | 'leave' | 'media'; user: Member }
  | { type: 'chat'; room: number; message: ChatMessage; clientId?: string | null }
  | { type: 'rtcOffer'; room: number; revision: number; sdp: string; publish: PublishMids; tracks: TrackInfo[] }
  /** The media server's verdict on this user's video: only verified time counts. */
  | { type: 'camera'; room: number; verified: boolean; reason: UnverifiedReason | null }
  | { type: 'rtcClosed'; room: number; reason: RtcClosedReason }
  | { type: 'attendance'; room: number; date: string; seconds: number; achieved: boolean; requiredSeconds?: number }
  /** This room's on-camera time does not count: the user's attendance counts in `countingRoom`. */
  | { type: 'attendanceElsewhere'; room: number; countingRoom: number | null }
  | { type: 'ranking'; [key: string]: unknown }
  | { type: 'notice'; room: number; notice: string | null }
  | { type: 'notification'; notification: AppNotification; unreadCount: number }
  | { type: 'left'; room: number; reason: LeftReason }
  /** A host deleted a message (docs/protocol.md, moderation frames). */
  | { type: 'chatDeleted'; room: number; messageId: number }
  /** A host locked the room for the session of `date`: no new joins. */
  | { type: 'roomLocked'; room: number; date: string }
  /** Every member whose media a host stopped (after `joined`, and on each change). */
  | { type: 'mediaStops'; room: number; stops: MediaStop[] }
  | { type: 'error'; code: string; message: string; room?: number; field?: string }
  | { type: 'pong' };

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
