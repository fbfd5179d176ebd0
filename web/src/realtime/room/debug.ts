/** Small helpers of the room: the debug flag tests switch on, and message ids of our own. */
import type { realtime } from '../socket';

/** The `clientId` a chat message keeps through resends (the server stores each once). */
export function newClientId(): string {
  if (typeof crypto !== 'undefined' && typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 12)}`;
}

/** Tests and the console may set `localStorage['ssgwan.debug'] = '1'` (or open the page with `?debug=1`). */
export function debugEnabled(): boolean {
  try {
    return localStorage.getItem('ssgwan.debug') === '1' || new URLSearchParams(location.search).get('debug') === '1';
  } catch {
    return false;
  }
}

declare global {
  interface Window {
    /** With the debug flag: the camera stream, so tests can see it stopped on leaving. */
    __ssgwanLocalStream?: MediaStream;
    __ssgwanSocket?: typeof realtime;
  }
}
