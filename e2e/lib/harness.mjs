/**
 * Shared plumbing for the end-to-end tests: the server's address (from run.sh), Chromium
 * launched the way this machine needs it, and screenshots of every open page when a step fails.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

export const BASE_URL = process.env.SSGWAN_E2E_URL ?? 'http://localhost:8080';
export const PID_FILE = process.env.SSGWAN_E2E_PID_FILE ?? '';
export const ARTIFACTS = process.env.SSGWAN_E2E_ARTIFACTS ?? path.resolve(import.meta.dirname, '..', 'artifacts');
/** The flags Chromium needs here (headless, fake camera and microphone, no mDNS host names). */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
  '--disable-features=WebRtcHideLocalIpsWithMdns',
];

/** Everything launched, so `closeAll` can end it and `screenshotAll` can see it. */
const browsers = [];

/**
 * Every Content-Security-Policy violation any page reported (its `securitypolicyviolation`
 * event, or Chromium's "Refused to …" console error); `assertNoCspViolations` fails on one.
 */
export const cspViolations = [];

export function assertNoCspViolations() {
  if (cspViolations.length) {
    throw new Error(`Content-Security-Policy violations:\n${cspViolations.join('\n')}`);
  }
}

/**
 * A Chromium of its own (fresh user-data directory) with one context. `debug` sets the app's
 * `ssgwan.debug` flag, which exposes the room's RTCPeerConnection as `window.__ssgwanPc`.
 * `extraArgs` go after the usual flags (e.g. `--use-file-for-fake-video-capture=clip.y4m`).
 */
export async function launchBrowser(name, { viewport = { width: 1280, height: 860 }, debug = true, extraArgs = [] } = {}) {
  const userDataDir = mkdtempSync(path.join(tmpdir(), `ssgwan-e2e-${name}-`));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: [...CHROMIUM_ARGS, ...extraArgs],
    viewport,
    locale: 'ko-KR',
    timezoneId: 'Asia/Seoul',
  });
  if (debug) {
    await context.addInitScript(() => {
      try {
        localStorage.setItem('ssgwan.debug', '1');
      } catch {
        // about:blank has no storage.
      }
    });
  }
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || '(inline)'} at ${e.sourceFile}:${e.lineNumber}`);
    });
  });
  context.setDefaultTimeout(15_000);
  const page = context.pages()[0] ?? (await context.newPage());
  page.on('pageerror', (err) => console.log(`[${name}] page error: ${err.message}`));
  page.on('console', (msg) => {
    // The app asks /api/me before anyone signs in; that 401 is expected.
    if (msg.text().includes('status of 401')) return;
    if (/CSP violation|Content Security Policy/.test(msg.text())) cspViolations.push(`[${name}] ${page.url()}: ${msg.text()}`);
    if (msg.type() === 'error' || msg.type() === 'warning') console.log(`[${name}] console.${msg.type()}: ${msg.text()}`);
  });
  const entry = { name, context, page, userDataDir };
  browsers.push(entry);
  return entry;
}

export async function closeAll() {
  for (const { context, userDataDir } of browsers.splice(0)) {
    await context.close().catch(() => {});
    rmSync(userDataDir, { recursive: true, force: true });
  }
}

export async function screenshotAll(label) {
  await mkdir(ARTIFACTS, { recursive: true });
  const safe = label.replace(/[^\w.-]+/g, '_').slice(0, 80);
  for (const { name, context } of browsers) {
    for (const [i, page] of context.pages().entries()) {
      const file = path.join(ARTIFACTS, `${safe}--${name}${i ? `-${i}` : ''}.png`);
      await page.screenshot({ path: file, fullPage: true, timeout: 10_000 }).catch(() => {});
      console.log(`  screenshot: ${path.relative(process.cwd(), file)}`);
    }
  }
}

/** Runs a test body; on failure saves screenshots of every page before failing. */
export function withScreenshots(label, fn) {
  return async (t) => {
    try {
      await fn(t);
    } catch (err) {
      await screenshotAll(`FAIL-${label}`);
      throw err;
    }
  };
}

/** Today's date in the challenges' default timezone. */
export function seoulDate(offsetDays = 0) {
  const d = new Date(Date.now() + offsetDays * 86_400_000);
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Seoul', year: 'numeric', month: '2-digit', day: '2-digit' }).format(d);
}

/** Minutes after midnight now, in Seoul. */
export function seoulMinutes() {
  const parts = new Intl.DateTimeFormat('en-GB', { timeZone: 'Asia/Seoul', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(new Date());
  const part = (type) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  return part('hour') * 60 + part('minute');
}
