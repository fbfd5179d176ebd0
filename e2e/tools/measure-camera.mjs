/**
 * What headless Chromium sends for a live camera, a disabled track, a black clip and a still
 * image: the figures behind the media server's presence thresholds (docs/camera-measurements.md).
 *
 *   bash scripts/measure-camera.sh            # installs ffmpeg/chromium if missing, then runs this
 *   node e2e/tools/measure-camera.mjs [--seconds 10] [--json out.json] [--only live,black]
 *
 * For each condition a fresh Chromium (the fake-camera file is a browser flag) opens a page on
 * http://localhost (getUserMedia needs a secure context), takes the camera with the web app's
 * constraints, sends it as VP8 over a loopback RTCPeerConnection pair inside the page and, for
 * `--seconds`, records every encoded frame the sender produces (an encoded-transform tap: type,
 * size, resolution) and samples `outbound-rtp` stats every 500 ms. It prints one table (the one
 * in the docs) and, with `--json`, every sample.
 *
 * The frame sizes are the VP8 bitstream (what the server meters, less the 1–4 byte VP8 payload
 * descriptor per packet); "payload B/frame" is `(bytesSent − retransmittedBytesSent) / framesSent`
 * from the stats (RTP payload bytes: RFC 3550 octet count, no headers or padding).
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS } from '../lib/harness.mjs';
import { makeClip } from '../lib/clips.mjs';

const { values: opts } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    json: { type: 'string' },
    only: { type: 'string' },
    // The presence rule to evaluate the windows against (the media server's defaults).
    'min-fps': { type: 'string', default: '5' },
    'min-bytes': { type: 'string', default: '250' },
  },
});
const SECONDS = Number(opts.seconds);
const RULE = { minFps: Number(opts['min-fps']), minBytes: Number(opts['min-bytes']), windowS: 2 };

/** The web app's camera constraints (web/src/realtime/room/media.ts). */
const VIDEO = { width: { ideal: 640 }, height: { ideal: 480 }, frameRate: { ideal: 24, max: 30 } };

/**
 * The conditions: `clip` picks the fake camera (none = Chromium's own moving fake device),
 * `disableAt` turns the track off (`enabled = false`) that many seconds after the first frame,
 * `maxBitrate` caps the encoder (a weak uplink).
 */
const CONDITIONS = [
  { id: 'live', label: 'live: Chromium fake device', clip: null },
  { id: 'live-clip', label: 'live: testsrc2 clip (moving)', clip: 'live' },
  { id: 'live-150k', label: 'live, uplink capped at 150 kbit/s', clip: null, maxBitrate: 150_000 },
  { id: 'disabled', label: 'disabled track (enabled = false)', clip: null, disableAt: 0 },
  { id: 'black', label: 'black clip', clip: 'black' },
  { id: 'still', label: 'still image (one frame repeated)', clip: 'still' },
  { id: 'still-bars', label: 'still image of colour bars (little detail)', clip: 'stillBars' },
  { id: 'live-then-disabled', label: 'live, then disabled after 5 s', clip: null, disableAt: 5 },
  { id: 'live-80k', label: 'live, uplink capped at 80 kbit/s', clip: null, maxBitrate: 80_000 },
  // The encoder keeps refining a still picture while its bitrate grows: watch it for longer.
  { id: 'still-long', label: 'still image, watched for 45 s', clip: 'still', seconds: 45 },
];

/** Runs in the page: camera → VP8 sender → receiver, all in this page. */
async function measureInPage({ seconds, video, disableAt, maxBitrate }) {
  const stream = await navigator.mediaDevices.getUserMedia({ video });
  const track = stream.getVideoTracks()[0];
  const settings = track.getSettings();
  const tap = typeof RTCRtpSender.prototype.createEncodedStreams === 'function';
  const pc1 = new RTCPeerConnection(tap ? { encodedInsertableStreams: true } : {});
  const pc2 = new RTCPeerConnection();
  pc1.onicecandidate = (e) => e.candidate && void pc2.addIceCandidate(e.candidate);
  pc2.onicecandidate = (e) => e.candidate && void pc1.addIceCandidate(e.candidate);
  const transceiver = pc1.addTransceiver(track, { direction: 'sendonly', streams: [stream] });
  const codecs = RTCRtpSender.getCapabilities('video').codecs;
  transceiver.setCodecPreferences(codecs.filter((c) => /vp8|rtx/i.test(c.mimeType)));

  const frames = [];
  let firstFrameAt = null;
  let disabledAt = null;
  if (tap) {
    const { readable, writable } = transceiver.sender.createEncodedStreams();
    void readable
      .pipeThrough(
        new TransformStream({
          transform(frame, controller) {
            const now = performance.now();
            firstFrameAt ??= now;
            const meta = frame.getMetadata();
            frames.push({ t: now, type: frame.type, bytes: frame.data.byteLength, width: meta.width, height: meta.height, ts: frame.timestamp });
            controller.enqueue(frame);
          },
        }),
      )
      .pipeTo(writable);
  }

  await pc1.setLocalDescription();
  await pc2.setRemoteDescription(pc1.localDescription);
  await pc2.setLocalDescription();
  await pc1.setRemoteDescription(pc2.localDescription);
  if (maxBitrate) {
    const params = transceiver.sender.getParameters();
    params.encodings[0].maxBitrate = maxBitrate;
    await transceiver.sender.setParameters(params);
  }

  const started = performance.now();
  while (firstFrameAt === null && performance.now() - started < 15_000) await new Promise((r) => setTimeout(r, 50));
  const t0 = firstFrameAt ?? performance.now();
  if (disableAt === 0) {
    track.enabled = false;
    disabledAt = performance.now();
  }

  const samples = [];
  const end = t0 + seconds * 1000;
  while (performance.now() < end) {
    await new Promise((r) => setTimeout(r, 500));
    if (disableAt && disabledAt === null && performance.now() - t0 >= disableAt * 1000) {
      track.enabled = false;
      disabledAt = performance.now();
    }
    const out = [...(await pc1.getStats()).values()].find((s) => s.type === 'outbound-rtp' && s.kind === 'video');
    const inb = [...(await pc2.getStats()).values()].find((s) => s.type === 'inbound-rtp' && s.kind === 'video');
    if (!out) continue;
    samples.push({
      t: performance.now() - t0,
      framesPerSecond: out.framesPerSecond ?? null,
      framesSent: out.framesSent ?? 0,
      framesEncoded: out.framesEncoded ?? 0,
      bytesSent: out.bytesSent ?? 0,
      headerBytesSent: out.headerBytesSent ?? 0,
      retransmittedBytesSent: out.retransmittedBytesSent ?? 0,
      packetsSent: out.packetsSent ?? 0,
      keyFramesEncoded: out.keyFramesEncoded ?? 0,
      frameWidth: out.frameWidth ?? null,
      frameHeight: out.frameHeight ?? null,
      targetBitrate: out.targetBitrate ?? null,
      qualityLimitationReason: out.qualityLimitationReason ?? null,
      encoderImplementation: out.encoderImplementation ?? null,
      framesDecoded: inb?.framesDecoded ?? 0,
    });
  }
  pc1.close();
  pc2.close();
  track.stop();
  return {
    tap,
    settings: { width: settings.width, height: settings.height, frameRate: settings.frameRate },
    frames: frames.map((f) => ({ ...f, t: f.t - t0 })),
    samples,
    disabledAt: disabledAt === null ? null : disabledAt - t0,
  };
}

/** Sliding windows of `windowS` seconds, every 250 ms, over the frame log between `from` and `to` (ms). */
function windows(frames, from, to, windowS) {
  const out = [];
  for (let start = from; start + windowS * 1000 <= to + 1; start += 250) {
    const inside = frames.filter((f) => f.t >= start && f.t < start + windowS * 1000 && f.type !== 'empty');
    const bytes = inside.reduce((sum, f) => sum + f.bytes, 0);
    out.push({ start, end: start + windowS * 1000, fps: inside.length / windowS, bytesPerFrame: inside.length ? bytes / inside.length : 0 });
  }
  return out;
}

const passes = (w) => w.fps >= RULE.minFps && w.bytesPerFrame >= RULE.minBytes;

function median(values) {
  if (!values.length) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Seconds one condition runs. */
const secondsOf = (condition) => condition.seconds ?? SECONDS;

function summarize(condition, result) {
  const { frames, samples } = result;
  const last = samples.at(-1) ?? {};
  const span = secondsOf(condition) * 1000;
  // Steady state: from 2 s after the first frame (the encoder ramps up from a low start bitrate).
  const steadyFrom = condition.disableAt ? condition.disableAt * 1000 + 2000 : 2000;
  const steady = frames.filter((f) => f.t >= steadyFrom && f.type !== 'empty');
  const delta = steady.filter((f) => f.type === 'delta');
  const keys = frames.filter((f) => f.type === 'key');
  const steadyWindows = windows(frames, steadyFrom, span, RULE.windowS);
  const firstSample = samples.find((s) => s.t >= steadyFrom) ?? samples[0] ?? {};
  const framesDelta = (last.framesSent ?? 0) - (firstSample.framesSent ?? 0);
  const payloadDelta =
    (last.bytesSent ?? 0) - (last.retransmittedBytesSent ?? 0) - ((firstSample.bytesSent ?? 0) - (firstSample.retransmittedBytesSent ?? 0));
  const headerDelta = (last.headerBytesSent ?? 0) - (firstSample.headerBytesSent ?? 0);
  const all = windows(frames, 0, span, RULE.windowS);
  let detection = null;
  if (condition.disableAt) {
    // From turning the track off to the first 2 s window (ending after that) that fails the rule.
    const off = result.disabledAt;
    const failing = all.find((w) => w.end > off && !passes(w));
    detection = failing ? Math.round(failing.end - off) : null;
  }
  const fpsSamples = samples.filter((s) => s.t >= steadyFrom && s.framesPerSecond !== null).map((s) => s.framesPerSecond);
  return {
    id: condition.id,
    label: condition.label,
    capture: result.settings,
    encoder: last.encoderImplementation,
    fpsStats: fpsSamples.length ? fpsSamples.reduce((a, b) => a + b, 0) / fpsSamples.length : null,
    framesSent: last.framesSent,
    framesPerSecondLog: steady.length / ((span - steadyFrom) / 1000),
    payloadBytesPerFrame: framesDelta > 0 ? payloadDelta / framesDelta : null,
    headerBytesPerFrame: framesDelta > 0 ? headerDelta / framesDelta : null,
    meanFrameBytes: steady.length ? steady.reduce((a, f) => a + f.bytes, 0) / steady.length : null,
    medianDeltaBytes: median(delta.map((f) => f.bytes)),
    minDeltaBytes: delta.length ? Math.min(...delta.map((f) => f.bytes)) : null,
    keyFramesEncoded: last.keyFramesEncoded,
    keyFrameBytes: keys.map((f) => f.bytes),
    keyFrameSize: keys.length ? `${keys[0].width}×${keys[0].height}` : null,
    frameSize: last.frameWidth ? `${last.frameWidth}×${last.frameHeight}` : null,
    window2s: {
      minFps: steadyWindows.length ? Math.min(...steadyWindows.map((w) => w.fps)) : null,
      maxFps: steadyWindows.length ? Math.max(...steadyWindows.map((w) => w.fps)) : null,
      minBytesPerFrame: steadyWindows.length ? Math.min(...steadyWindows.map((w) => w.bytesPerFrame)) : null,
      maxBytesPerFrame: steadyWindows.length ? Math.max(...steadyWindows.map((w) => w.bytesPerFrame)) : null,
      passing: steadyWindows.filter(passes).length,
      of: steadyWindows.length,
    },
    // Windows from the very first frame (the encoder's start-up included).
    firstWindow: all[0] ?? null,
    firstPassingAtMs: all.find(passes)?.end ?? null,
    detectionMs: detection,
    // Mean bytes per frame of the 2 s window ending at each whole second.
    series: windows(frames, 0, span, RULE.windowS)
      .filter((w) => w.end % 1000 === 0)
      .map((w) => ({ end: w.end / 1000, fps: w.fps, bytesPerFrame: Math.round(w.bytesPerFrame) })),
    qualityLimitation: last.qualityLimitationReason,
    framesDecoded: last.framesDecoded,
  };
}

async function runCondition(condition, clipDir, url) {
  const extra = [];
  if (condition.clip) extra.push(`--use-file-for-fake-video-capture=${makeClip(condition.clip, clipDir)}`);
  const userDataDir = mkdtempSync(path.join(tmpdir(), 'ssgwan-measure-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: [...CHROMIUM_ARGS, ...extra],
  });
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    await page.goto(url);
    const result = await page.evaluate(measureInPage, {
      seconds: secondsOf(condition),
      video: VIDEO,
      disableAt: condition.disableAt ?? null,
      maxBitrate: condition.maxBitrate ?? null,
    });
    return result;
  } finally {
    await context.close().catch(() => {});
    rmSync(userDataDir, { recursive: true, force: true });
  }
}

const fmt = (v, digits = 0) => (v === null || v === undefined || Number.isNaN(v) ? '–' : Number(v).toFixed(digits));

function table(rows) {
  const head = [
    'condition',
    'frame size',
    'fps (stats)',
    'frames sent',
    'payload B/frame',
    'median delta B',
    'keyframes (sizes B)',
    '2 s window: fps min–max',
    '2 s window: B/frame min–max',
    `passes ≥${RULE.minFps} fps & ≥${RULE.minBytes} B`,
  ];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const r of rows) {
    const keys = r.keyFrameBytes.length ? `${r.keyFramesEncoded} (${r.keyFrameBytes.slice(0, 4).join(', ')}${r.keyFrameBytes.length > 4 ? ', …' : ''})` : `${r.keyFramesEncoded ?? '–'}`;
    lines.push(
      `| ${[
        r.label,
        r.frameSize ?? '–',
        fmt(r.fpsStats, 1),
        r.framesSent ?? '–',
        fmt(r.payloadBytesPerFrame),
        fmt(r.medianDeltaBytes),
        keys,
        `${fmt(r.window2s.minFps, 1)}–${fmt(r.window2s.maxFps, 1)}`,
        `${fmt(r.window2s.minBytesPerFrame)}–${fmt(r.window2s.maxBytesPerFrame)}`,
        `${r.window2s.passing}/${r.window2s.of}${r.detectionMs !== null ? ` (fails ${r.detectionMs} ms after off)` : ''}`,
      ].join(' | ')} |`,
    );
  }
  return lines.join('\n');
}

async function main() {
  const only = opts.only ? new Set(opts.only.split(',')) : null;
  const clipDir = mkdtempSync(path.join(tmpdir(), 'ssgwan-clips-'));
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end('<!doctype html><title>measure</title>');
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://localhost:${server.address().port}/`;
  const rows = [];
  const raw = {};
  try {
    for (const condition of CONDITIONS) {
      if (only && !only.has(condition.id)) continue;
      console.error(`measuring: ${condition.label} (${secondsOf(condition)} s)`);
      const result = await runCondition(condition, clipDir, url);
      if (!result.tap) console.error('  (no encoded-frame tap in this Chromium: frame sizes come from the stats only)');
      raw[condition.id] = result;
      const row = summarize(condition, result);
      rows.push(row);
      console.error(`  ${JSON.stringify({ ...row, keyFrameBytes: row.keyFrameBytes.slice(0, 6), series: undefined })}`);
    }
  } finally {
    server.close();
    rmSync(clipDir, { recursive: true, force: true });
  }
  const version = execFileSync(CHROMIUM, ['--version'], { encoding: 'utf8' }).trim();
  console.log(`${version} (${CHROMIUM}), ${SECONDS} s per condition, steady state from 2 s after the first frame (2 s after turning the track off for the delayed one)\n`);
  console.log(table(rows));
  console.log('\nMean bytes per frame of the 2 s window ending at each second (s: B/frame @ fps):\n');
  for (const r of rows) {
    console.log(`- ${r.label}: ${r.series.map((w) => `${w.end}: ${w.bytesPerFrame}@${w.fps}`).join(', ')}`);
  }
  if (opts.json) writeFileSync(opts.json, JSON.stringify({ rule: RULE, rows, raw }, null, 1));
}

await main();
