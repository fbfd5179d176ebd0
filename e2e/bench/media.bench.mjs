/**
 * Media benchmarks (issue 13), figures and no pass/fail thresholds: four real Chromium pages in
 * one live room through the server's media server, on loopback.
 *
 *   bash scripts/bench-media.sh          # release build, then this through e2e/run.sh
 *
 * Prints:
 * - `BENCH media-4-pages`: the server process's CPU (user + system, % of one core, from
 *   /proc/<pid>/stat) and what its media server received and forwarded per second (packets and
 *   Mbit/s, from /metrics) over `MEDIA_BENCH_SECONDS` (20) with all four pages decoding the other
 *   three;
 * - `BENCH join-to-first-remote-frame`: p50/p95/max over `MEDIA_BENCH_JOINS` (10) joins, each a
 *   page leaving the room and navigating back, timed from the navigation to its first decoded
 *   remote video frame.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test, after } from 'node:test';
import { call, allDayChallenge } from '../lib/api.mjs';
import { BASE_URL, PID_FILE, closeAll, launchBrowser } from '../lib/harness.mjs';
import { describePc, framesByUser, waitVideoFlowing } from '../lib/rtc.mjs';

const RUN = Date.now().toString(36).slice(-5);
const SECONDS = Number(process.env.MEDIA_BENCH_SECONDS ?? 20);
const JOINS = Number(process.env.MEDIA_BENCH_JOINS ?? 10);
const url = (p) => `${BASE_URL}${p}`;


/** CPU seconds (user + system) the server process used so far. */
function serverCpuSeconds() {
  const pid = readFileSync(PID_FILE, 'utf8').trim();
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  // utime and stime are fields 14 and 15 (1-based), in clock ticks (100 per second on Linux).
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function metrics() {
  const text = await (await fetch(url('/metrics'))).text();
  const value = (name) => Number(text.match(new RegExp(`^${name} (\\S+)$`, 'm'))?.[1] ?? 0);
  return {
    receivedPackets: value('ssgwan_media_packets_received_total'),
    receivedBytes: value('ssgwan_media_bytes_received_total'),
    forwardedPackets: value('ssgwan_media_packets_forwarded_total'),
    forwardedBytes: value('ssgwan_media_bytes_forwarded_total'),
  };
}

const rank = (values, q) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
};

after(closeAll);

test('media benchmarks: four Chromium pages in one room', { timeout: 30 * 60_000 }, async () => {
  const members = [];
  for (const name of ['가', '나', '다', '라'].map((n) => `벤치${n}${RUN}`)) {
    const browser = await launchBrowser(name, { viewport: { width: 1024, height: 720 } });
    await browser.page.goto(url('/login'));
    const login = await call(browser.page, 'POST', '/api/auth/dev-login', { nickname: name });
    assert.ok(login.status < 300);
    members.push({ name, page: browser.page, id: login.body.user.id });
  }
  const created = await call(members[0].page, 'POST', '/api/challenges', allDayChallenge(`벤치 ${RUN}`));
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const room = created.body.id;
  for (const m of members.slice(1)) {
    const joined = await call(m.page, 'POST', `/api/challenges/${room}/participants`);
    assert.ok(joined.status < 300);
  }
  const live = url(`/challenges/${room}/live`);
  await Promise.all(members.map((m) => m.page.goto(live)));
  for (const m of members) {
    for (const o of members) if (o !== m) await waitVideoFlowing(m.page, o.id, `${m.name} sees ${o.name}`, 60_000);
  }

  // Steady state: four pages, each publishing one camera and decoding three.
  await members[0].page.waitForTimeout(3_000);
  const cpu0 = serverCpuSeconds();
  const m0 = await metrics();
  const t0 = Date.now();
  await members[0].page.waitForTimeout(SECONDS * 1_000);
  const cpu1 = serverCpuSeconds();
  const m1 = await metrics();
  const elapsed = (Date.now() - t0) / 1_000;
  const rate = (a, b) => (b - a) / elapsed;
  const figures = {
    seconds: Math.round(elapsed),
    serverCpuPercentOfOneCore: Math.round((1_000 * (cpu1 - cpu0)) / elapsed) / 10,
    receivedPacketsPerSecond: Math.round(rate(m0.receivedPackets, m1.receivedPackets)),
    forwardedPacketsPerSecond: Math.round(rate(m0.forwardedPackets, m1.forwardedPackets)),
    receivedMbitPerSecond: Math.round((rate(m0.receivedBytes, m1.receivedBytes) * 8) / 10_000) / 100,
    forwardedMbitPerSecond: Math.round((rate(m0.forwardedBytes, m1.forwardedBytes) * 8) / 10_000) / 100,
  };
  console.log(`BENCH media-4-pages ${JSON.stringify(figures)}`);

  // Joins: a page leaves and comes back, timed to its first decoded remote frame.
  const times = [];
  for (let i = 0; i < JOINS; i += 1) {
    const m = members[i % members.length];
    const others = members.filter((o) => o !== m);
    await m.page.goto(url(`/challenges/${room}`));
    for (const o of others) {
      await o.page.locator(`[data-testid="remote-tile"][data-user-id="${m.id}"]`).waitFor({ state: 'detached', timeout: 20_000 });
    }
    const start = Date.now();
    await m.page.goto(live);
    let first = null;
    while (first === null && Date.now() - start < 60_000) {
      const frames = (await framesByUser(m.page)) ?? {};
      if (Object.values(frames).some((n) => n > 0)) first = Date.now() - start;
      else await m.page.waitForTimeout(25);
    }
    assert.ok(first !== null, `${m.name}: no remote frame after the join (${await describePc(m.page)})`);
    times.push(first);
  }
  console.log(
    `BENCH join-to-first-remote-frame ${JSON.stringify({ joins: times.length, p50Ms: rank(times, 0.5), p95Ms: rank(times, 0.95), maxMs: Math.max(...times), allMs: times })}`,
  );
});
