/**
 * How long a dropped socket waits before the next attempt: exponential back-off (0.5 s doubling
 * up to 15 s) with jitter, so a whole room does not reconnect in the same instant after a server
 * restart.
 */

export const BACKOFF_BASE_MS = 500;
export const BACKOFF_MAX_MS = 15_000;

/**
 * The wait before attempt `attempt` (0 for the first retry after a drop): between half of and
 * the full capped delay, where in that range picked by `random()` (in [0, 1)).
 */
export function reconnectDelay(attempt: number, random: () => number = Math.random): number {
  const delay = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** attempt);
  return delay / 2 + random() * (delay / 2);
}
