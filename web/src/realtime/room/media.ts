/**
 * This browser's camera and microphone: opening them (with a camera-only fallback), telling a
 * refusal from a missing device, and turning them on and off. The room learns of every change
 * through its `MediaHost` and tells the server.
 */
import type { CameraState, LocalMediaState } from './store';

/** What the camera needs from the room. */
export interface MediaHost {
  /** Whether the room is running (a stopped room ignores a track ending). */
  active(): boolean;
  local(): LocalMediaState;
  setLocal(local: LocalMediaState): void;
  /** A new stream is open (the media connection sends it to the server). */
  opened(stream: MediaStream): void;
  /** Camera or microphone changed: tell the server. */
  changed(): void;
}

const VIDEO: MediaTrackConstraints = { width: { ideal: 640 }, height: { ideal: 480 }, frameRate: { ideal: 24, max: 30 } };

/** A failed getUserMedia: the browser or the user refused (`denied`), or there is no usable camera. */
export function cameraFailure(error: unknown): Extract<CameraState, 'denied' | 'unavailable'> {
  return error instanceof DOMException && (error.name === 'NotAllowedError' || error.name === 'SecurityError') ? 'denied' : 'unavailable';
}

/** Camera and microphone, or the camera alone when the microphone is missing or busy. */
export async function openCamera(devices: MediaDevices): Promise<{ stream: MediaStream } | { failure: unknown }> {
  try {
    return { stream: await devices.getUserMedia({ video: VIDEO, audio: { echoCancellation: true, noiseSuppression: true } }) };
  } catch (err) {
    // A refusal covers the camera too; anything else may be the microphone alone.
    if (err instanceof DOMException && err.name === 'NotAllowedError') return { failure: err };
    try {
      // A camera alone still proves attendance.
      return { stream: await devices.getUserMedia({ video: VIDEO }) };
    } catch (again) {
      return { failure: again };
    }
  }
}

export class LocalMedia {
  private current: MediaStream | null = null;

  constructor(private readonly host: MediaHost) {}

  get stream(): MediaStream | null {
    return this.current;
  }

  /** Opens the camera; `wanted` says whether the room still wants it once the browser answers. */
  async start(wanted: () => boolean) {
    const host = this.host;
    host.setLocal({ ...host.local(), camera: 'starting' });
    if (!navigator.mediaDevices?.getUserMedia) {
      host.setLocal({ ...host.local(), camera: 'unavailable' });
      return;
    }
    const opened = await openCamera(navigator.mediaDevices);
    if (!wanted()) {
      if ('stream' in opened) opened.stream.getTracks().forEach((t) => t.stop());
      return;
    }
    if (!('stream' in opened)) {
      host.setLocal({ ...host.local(), camera: cameraFailure(opened.failure), cameraOn: false });
      host.changed();
      return;
    }

    const { stream } = opened;
    this.stop();
    this.current = stream;
    const audio = stream.getAudioTracks()[0];
    // Microphones start muted: most rooms are quiet study rooms.
    if (audio) audio.enabled = host.local().micOn;
    for (const track of stream.getTracks()) {
      track.addEventListener('ended', () => this.onTrackEnded(track));
    }
    host.opened(stream);
    host.setLocal({ stream, camera: 'on', cameraOn: true, micOn: Boolean(audio?.enabled), hasMic: Boolean(audio) });
    host.changed();
  }

  /** Camera on/off; false when there is no live camera track to toggle (start it instead). */
  toggleCamera(): boolean {
    const video = this.current?.getVideoTracks()[0];
    if (!video || video.readyState === 'ended') return false;
    video.enabled = !video.enabled;
    this.host.setLocal({ ...this.host.local(), camera: video.enabled ? 'on' : 'off', cameraOn: video.enabled });
    this.host.changed();
    return true;
  }

  toggleMic() {
    const audio = this.current?.getAudioTracks()[0];
    if (!audio || audio.readyState === 'ended') return;
    audio.enabled = !audio.enabled;
    this.host.setLocal({ ...this.host.local(), micOn: audio.enabled });
    this.host.changed();
  }

  /** Stops every track (leaving, or refused entry). */
  stop() {
    this.current?.getTracks().forEach((t) => t.stop());
    this.current = null;
  }

  private onTrackEnded(track: MediaStreamTrack) {
    if (!this.host.active() || !this.current?.getTracks().includes(track)) return;
    if (track.kind === 'video') {
      this.host.setLocal({ ...this.host.local(), camera: 'unavailable', cameraOn: false });
    } else {
      this.host.setLocal({ ...this.host.local(), micOn: false, hasMic: false });
    }
    this.host.changed();
  }
}
