/**
 * The STUN/TURN servers the media connection may fall back on, fetched on entering and again before the
 * TURN credentials lapse.
 */
import { fetchIceServers } from '../../api/rtc';

/** Credentials lasting at most this long are not refreshed (the room would refresh nonstop). */
const MIN_REFRESH_TTL_S = 60;
/** Refresh at 80 % of the credentials' lifetime. */
const REFRESH_AT = 0.8;
/** Assumed lifetime when the request failed. */
const FALLBACK_TTL_S = 3600;

export class IceServerFeed {
  private timer: ReturnType<typeof setTimeout> | undefined;

  /** `apply` gets every answer (empty when the request failed). */
  constructor(private readonly apply: (servers: RTCIceServer[]) => void) {}

  /** Fetches the servers, hands them over while `wanted` says so and schedules the refresh. */
  async load(wanted: () => boolean): Promise<void> {
    let servers: RTCIceServer[] = [];
    let ttl = FALLBACK_TTL_S;
    try {
      const answer = await fetchIceServers();
      servers = answer.servers;
      ttl = answer.ttlSeconds;
    } catch {
      // No STUN/TURN: host candidates still connect browsers on one network.
    }
    if (!wanted()) return;
    this.apply(servers);
    if (ttl > MIN_REFRESH_TTL_S) this.timer = setTimeout(() => void this.load(wanted), ttl * 1000 * REFRESH_AT);
  }

  stop() {
    clearTimeout(this.timer);
  }
}
