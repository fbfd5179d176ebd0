/** Calling the API from inside a page (its session cookie), shared by the live-room tests. */
import { seoulDate } from './harness.mjs';

/** fetch() from inside the page, JSON both ways: `{ status, body }`. */
export async function call(page, method, p, body) {
  return page.evaluate(
    async ({ method, p, body }) => {
      const r = await fetch(p, {
        method,
        headers: body === undefined ? { 'x-requested-with': 'XMLHttpRequest' } : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await r.text();
      return { status: r.status, body: text ? JSON.parse(text) : null };
    },
    { method, p, body },
  );
}

/** A week-long challenge for `POST /api/challenges` whose session is all day (00:00–23:59 Seoul). */
export function allDayChallenge(title) {
  return {
    title,
    description: '',
    category: 'STUDY',
    thumbnail: null,
    capacity: 10,
    startDate: seoulDate(0),
    endDate: seoulDate(6),
    daysOfWeek: ['MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT', 'SUN'],
    sessionStart: '00:00',
    sessionEnd: '23:59',
    timezone: 'Asia/Seoul',
    minMinutes: 30,
    successRate: 80,
  };
}
