/**
 * Reading the live room's one RTCPeerConnection (to the server's media server) from a test.
 * The app's debug flag (set by the harness) exposes it as `window.__ssgwanPc`, every connection
 * it ever opened as `window.__ssgwanPcs`, and the last offer's `tracks` (which member each
 * receiving m-line carries) as `window.__ssgwanRtc`.
 */
import assert from 'node:assert/strict';

/** Video frames decoded so far per member (by user id), from `inbound-rtp` and the offer's tracks; null without a connection. */
export async function framesByUser(page) {
  return page.evaluate(async () => {
    const pc = window.__ssgwanPc;
    if (!pc) return null;
    const owner = new Map((window.__ssgwanRtc?.tracks ?? []).filter((t) => t.kind === 'video').map((t) => [t.mid, t.user]));
    const out = {};
    (await pc.getStats()).forEach((s) => {
      if (s.type !== 'inbound-rtp' || s.kind !== 'video') return;
      const user = owner.get(s.mid);
      if (user !== undefined) out[user] = (out[user] ?? 0) + (s.framesDecoded ?? 0);
    });
    return out;
  });
}

/** Frames decoded so far from `userId`'s video (-1: no connection, 0: no track for them). */
export async function framesDecoded(page, userId) {
  const frames = await framesByUser(page);
  return frames === null ? -1 : (frames[userId] ?? 0);
}

/** The connection's states, for failure messages. */
export async function describePc(page) {
  return page.evaluate(() => {
    const pc = window.__ssgwanPc;
    const rtc = window.__ssgwanRtc;
    const open = (window.__ssgwanPcs ?? []).filter((p) => p.connectionState !== 'closed').length;
    const offers = JSON.stringify((rtc?.offers ?? []).slice(-8));
    return pc
      ? `${pc.signalingState}/${pc.connectionState}/${pc.iceConnectionState}, revision ${rtc?.revision}, tracks ${JSON.stringify(rtc?.tracks)}, open connections ${open}, rtcStart sent ${rtc?.starts}, last offers ${offers}`
      : `no connection (open connections ${open}, rtcStart sent ${rtc?.starts}, last offers ${offers})`;
  });
}

/** RTCPeerConnections of the page that are not closed. */
export async function openConnections(page) {
  return page.evaluate(() => (window.__ssgwanPcs ?? []).filter((p) => p.connectionState !== 'closed').length);
}

/** Waits (up to `timeout`) until `fromUserId`'s video frames are being decoded; returns the wait in ms. */
export async function waitVideoFlowing(page, fromUserId, label, timeout = 30_000) {
  const start = Date.now();
  let last = await framesDecoded(page, fromUserId);
  while (Date.now() - start < timeout) {
    await page.waitForTimeout(250);
    const now = await framesDecoded(page, fromUserId);
    if (last >= 0 && now > last) return Date.now() - start;
    last = now;
  }
  assert.fail(`${label}: no video from user ${fromUserId} decoded within ${timeout} ms (${await describePc(page)})`);
}

/** Asserts `fromUserId`'s frames keep being decoded (more after a second); returns how many more. */
export async function expectVideoFlowing(page, fromUserId, label) {
  const first = await framesDecoded(page, fromUserId);
  assert.ok(first >= 0, `${label}: no RTCPeerConnection (${await describePc(page)})`);
  // Generous on a loaded machine: up to 10 s for the count to move.
  const deadline = Date.now() + 10_000;
  let now = first;
  while (Date.now() < deadline) {
    await page.waitForTimeout(500);
    now = await framesDecoded(page, fromUserId);
    if (now > first) return now - first;
  }
  assert.fail(`${label}: framesDecoded of user ${fromUserId} did not grow (${first} -> ${now}; ${await describePc(page)})`);
}

/**
 * The selected ICE candidate pair of the connection: its remote end is the server's media
 * server (a host candidate on loopback, UDP or TCP), never a relay.
 */
export async function selectedPair(page) {
  return page.evaluate(async () => {
    const pc = window.__ssgwanPc;
    if (!pc) return null;
    const stats = await pc.getStats();
    let pairId = null;
    stats.forEach((s) => {
      if (s.type === 'transport' && s.selectedCandidatePairId) pairId = s.selectedCandidatePairId;
    });
    const pair = pairId ? stats.get(pairId) : null;
    if (!pair) return null;
    const local = stats.get(pair.localCandidateId);
    const remote = stats.get(pair.remoteCandidateId);
    return {
      state: pair.state,
      local: { address: local?.address, port: local?.port, type: local?.candidateType, protocol: local?.protocol },
      remote: { address: remote?.address, port: remote?.port, type: remote?.candidateType, protocol: remote?.protocol },
    };
  });
}
