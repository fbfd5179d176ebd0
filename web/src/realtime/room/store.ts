/**
 * The room's state as React reads it: one immutable snapshot, replaced on every change and read
 * with useSyncExternalStore. While the room is stopped the store ignores updates, so async work
 * that finishes after leaving (a history page, the camera) changes nothing.
 */
import type { ChatMessage, LeftReason, MediaStop, Member, UnverifiedReason } from '../protocol';
import { REMOTE_IDLE, type RemoteMedia } from './sfu';
import type { ConnectionState } from '../socket';

export type RoomStatus = 'waiting' | 'joined' | 'forbidden' | 'left';

/** `unavailable`: this device has no camera (or it stopped); `denied`: the browser or the user refused it. */
export type CameraState = 'starting' | 'on' | 'off' | 'denied' | 'unavailable';

export interface PendingMessage {
  clientId: string;
  body: string;
  status: 'sending' | 'failed';
  /** The server's refusal (RATE_LIMITED, VALIDATION_FAILED…), or TIMEOUT. */
  error: string | null;
  sentAt: number;
}

export interface Attendance {
  date: string;
  seconds: number;
  achieved: boolean;
  requiredSeconds: number | null;
  /** `performance.now()` when the frame arrived. */
  receivedAt: number;
  /** The server's count went up since its previous frame: time is accruing right now. */
  accruing: boolean;
}

export interface RoomNotice {
  id: number;
  code: string;
}

/** The challenge's notice as the last `notice` frame set it (`seq` counts the frames). */
export interface Announcement {
  notice: string | null;
  seq: number;
}

/** This browser's camera and microphone. */
export interface LocalMediaState {
  stream: MediaStream | null;
  camera: CameraState;
  cameraOn: boolean;
  micOn: boolean;
  hasMic: boolean;
}

/** The media server's verdict on this user's video (`camera` frames). */
export interface Verification {
  verified: boolean;
  reason: UnverifiedReason | null;
}

export interface RoomSnapshot {
  connection: ConnectionState;
  /** How many `joined` answers so far (1 after the first join, more after each rejoin). */
  joins: number;
  /** Null until a `notice` frame arrives: the challenge's own `notice` holds until then. */
  announcement: Announcement | null;
  /** The server's live features are paused (`SERVICE_UNAVAILABLE`): when the room tries again. */
  unavailable: { retryAt: number } | null;
  status: RoomStatus;
  /** Why the server took this tab out of the room, once it did (`status: 'left'`). */
  leftReason: LeftReason | null;
  members: Member[];
  /** Members whose video or audio a host stopped (this user's own included). */
  mediaStops: MediaStop[];
  /** The media connection to the server and the members' streams it carries. */
  remote: RemoteMedia;
  /** Null until the media server's first verdict. */
  verification: Verification | null;
  /** The video grid's page shown (0-based). */
  page: number;
  /** The screen is wide enough for big tiles. */
  wide: boolean;
  messages: ChatMessage[];
  pending: PendingMessage[];
  history: { hasOlder: boolean; loading: boolean; error: boolean };
  attendance: Attendance | null;
  /** Set while the user's attendance counts in another room (one room counts at a time). */
  countingElsewhere: { countingRoom: number | null } | null;
  notice: RoomNotice | null;
  local: LocalMediaState;
}

/** The camera before it is asked for (and after leaving). */
export const LOCAL_IDLE: LocalMediaState = { stream: null, camera: 'starting', cameraOn: false, micOn: false, hasMic: false };

export function initialSnapshot(connection: ConnectionState): RoomSnapshot {
  return {
    connection,
    joins: 0,
    announcement: null,
    unavailable: null,
    status: 'waiting',
    leftReason: null,
    members: [],
    mediaStops: [],
    remote: REMOTE_IDLE,
    verification: null,
    page: 0,
    wide: false,
    messages: [],
    pending: [],
    history: { hasOlder: false, loading: false, error: false },
    attendance: null,
    countingElsewhere: null,
    notice: null,
    local: LOCAL_IDLE,
  };
}

export class SnapshotStore<T extends object> {
  private snapshot: T;
  private readonly listeners = new Set<() => void>();
  private open = false;

  constructor(initial: T) {
    this.snapshot = initial;
  }

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getSnapshot = (): T => this.snapshot;

  /** Whether updates apply (between `activate` and `deactivate`). */
  get active(): boolean {
    return this.open;
  }

  activate() {
    this.open = true;
  }

  /** Updates are ignored from now on. */
  deactivate() {
    this.open = false;
  }

  /** Sets the state a later `activate` starts from, without telling anyone (the room is stopped). */
  reset(next: (current: T) => T) {
    this.snapshot = next(this.snapshot);
  }

  update(patch: Partial<T>) {
    if (!this.open) return;
    this.snapshot = { ...this.snapshot, ...patch };
    for (const listener of [...this.listeners]) listener();
  }
}
