/**
 * Screenshots of every page, in Korean and in English, at desktop and phone size, into
 * `artifacts/screens/{lang}-{size}-{page}.png`, for people to look at. It builds its own small
 * world through the API (two users with pictures, challenges with a thumbnail, tags, a notice,
 * wishes, chat) and keeps a second browser in the live room so the room shows someone else's
 * video and the notice banner.
 *
 * Each page is also checked for what a screenshot can hide: nothing wider than the screen
 * (sideways scrolling on a phone), no images that failed to load, no untranslated keys.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { ARTIFACTS, BASE_URL, assertNoCspViolations, closeAll, launchBrowser, seoulDate, withScreenshots } from '../lib/harness.mjs';
import { avatarPng, thumbnailPng } from '../lib/png.mjs';

const RUN = Date.now().toString(36).slice(-4);
const SCREENS = path.join(ARTIFACTS, 'screens');
const SIZES = {
  desktop: { width: 1280, height: 860 },
  phone: { width: 390, height: 844 },
};

let main;
let peer;
const world = { challengeId: 0, meId: 0, peerId: 0 };

before(async () => {
  mkdirSync(SCREENS, { recursive: true });
  main = await launchBrowser('screens', { viewport: SIZES.desktop });
  peer = await launchBrowser('screens-peer', { viewport: SIZES.phone });
});

after(async () => {
  await closeAll();
});

/** Runs `fetch` calls inside the page (its cookies are the session). */
function inPage(page) {
  return {
    async call(method, p, body) {
      return page.evaluate(
        async ({ method, p, body }) => {
          const r = await fetch(p, {
            method,
            headers: body === undefined ? {} : { 'content-type': 'application/json' },
            body: body === undefined ? undefined : JSON.stringify(body),
          });
          const text = await r.text();
          return { status: r.status, body: text ? JSON.parse(text) : null };
        },
        { method, p, body },
      );
    },
    async upload(name, bytes) {
      return page.evaluate(
        async ({ name, data }) => {
          const form = new FormData();
          form.append('file', new File([Uint8Array.from(atob(data), (c) => c.charCodeAt(0))], name, { type: 'image/png' }));
          const r = await fetch('/api/uploads', { method: 'POST', body: form });
          return { status: r.status, body: await r.json().catch(() => null) };
        },
        { name, data: bytes.toString('base64') },
      );
    },
  };
}

async function signIn(page, nickname) {
  await page.goto(`${BASE_URL}/login`);
  const api = inPage(page);
  const login = await api.call('POST', '/api/auth/dev-login', { nickname });
  assert.ok(login.status < 300, `dev login: ${login.status}`);
  return login.body.user.id;
}

function challengeBody(title, category, extra = {}) {
  return {
    title,
    description: '',
    category,
    thumbnail: null,
    capacity: 8,
    startDate: seoulDate(0),
    endDate: seoulDate(13),
    daysOfWeek: ['MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT', 'SUN'],
    sessionStart: '00:00',
    sessionEnd: '23:59',
    timezone: 'Asia/Seoul',
    minMinutes: 10,
    successRate: 80,
    ...extra,
  };
}

/** Waits until the page has settled: no spinner, fonts and images loaded. */
async function settle(page) {
  await page.waitForFunction(() => !document.querySelector('.spinner'), null, { timeout: 15_000 }).catch(() => {});
  await page.evaluate(() => document.fonts.ready);
  await page
    .waitForFunction(() => [...document.images].every((img) => img.complete), null, { timeout: 10_000 })
    .catch(() => {});
  await page.waitForTimeout(150);
}

/** What a screenshot can hide; returns a list of problems (empty when fine). */
async function problems(page, lang) {
  return page.evaluate((lang) => {
    const found = [];
    const width = document.documentElement.clientWidth;
    if (document.documentElement.scrollWidth > width + 1) {
      const wide = [...document.querySelectorAll('body *')]
        .filter((el) => el.getBoundingClientRect().right > width + 1 && getComputedStyle(el).position !== 'fixed')
        .filter((el) => !el.closest('.nav__links, .chips, .visually-hidden'))
        .slice(0, 3)
        .map((el) => `${el.tagName.toLowerCase()}.${[...el.classList].join('.')}`);
      found.push(`page is ${document.documentElement.scrollWidth}px wide on a ${width}px screen (${wide.join(', ')})`);
    }
    for (const img of document.images) {
      if (img.complete && img.naturalWidth === 0 && img.getAttribute('src')) found.push(`image did not load: ${img.getAttribute('src')}`);
    }
    const text = document.body.innerText;
    const key = /\b(?:nav|common|errors|list|detail|form|validation|upload|live|rankings|me|profile|stats|login|challenge|tags|wish|notice|level|sparkline|sort)\.[a-zA-Z]+(?:\.[a-zA-Z_]+)*\b/.exec(text);
    if (key) found.push(`untranslated key: ${key[0]}`);
    if (document.documentElement.lang !== lang) found.push(`<html lang> is ${document.documentElement.lang}`);
    return found;
  }, lang);
}

test('screenshots of every page in both languages, desktop and phone', withScreenshots('screens', async () => {
  const page = main.page;
  const api = inPage(page);
  world.meId = await signIn(page, `민지${RUN}`);
  const peerApi = inPage(peer.page);
  world.peerId = await signIn(peer.page, `Alex${RUN}`);

  const avatar = await api.upload('me.png', avatarPng());
  assert.equal(avatar.status, 201, JSON.stringify(avatar.body));
  await api.call('PATCH', '/api/me', { profileImage: avatar.body.url, bio: '매일 아침 6시에 일어나 책 20쪽 읽기 도전 중! 📚' });
  const thumb = await api.upload('thumb.png', thumbnailPng());
  assert.equal(thumb.status, 201, JSON.stringify(thumb.body));
  const thumbnail = thumb.body.url;
  const created = await api.call(
    'POST',
    '/api/challenges',
    challengeBody(`매일 아침 책 20쪽 읽기 ${RUN}`, 'READING', {
      thumbnail,
      description: '아침에 카메라를 켜고 함께 책을 읽어요.\n읽은 쪽수는 채팅으로 남겨 주세요.',
      minMinutes: 20,
      tags: ['독서', '아침습관', '20쪽읽기챌린지'],
    }),
  );
  assert.equal(created.status, 201, JSON.stringify(created.body));
  world.challengeId = created.body.id;
  const notice = await api.call('PUT', `/api/challenges/${world.challengeId}/notice`, {
    notice: '내일(토)은 07:10에 시작합니다. 읽을 책을 미리 준비해 주세요!\n다음 주부터는 주말에 쉬어요.',
  });
  assert.equal(notice.status, 200, JSON.stringify(notice.body));
  // A few more, so the list has company (different categories, one starting later).
  const workout = await api.call('POST', '/api/challenges', challengeBody(`저녁 홈트 30분 ${RUN}`, 'WORKOUT', { sessionStart: '19:00', sessionEnd: '21:00', tags: ['홈트', 'fitness'] }));
  await api.call('POST', '/api/challenges', challengeBody(`Miracle morning ${RUN}`, 'MORNING', { startDate: seoulDate(3), sessionStart: '05:00', sessionEnd: '07:00', tags: ['아침습관', 'english'] }));

  assert.ok((await peerApi.call('POST', `/api/challenges/${world.challengeId}/participants`)).status < 300);
  // Wishes: the peer likes the reading challenge, the main user the workout.
  assert.equal((await peerApi.call('PUT', `/api/challenges/${world.challengeId}/wish`)).status, 204);
  assert.equal((await api.call('PUT', `/api/challenges/${workout.body.id}/wish`)).status, 204);
  assert.equal((await api.call('PUT', `/api/challenges/${world.challengeId}/wish`)).status, 204);
  // The peer stays in the live room from here on, so the room has a remote video to show.
  await peer.page.goto(`${BASE_URL}/challenges/${world.challengeId}/live`);
  await peer.page.locator('[data-testid="connection"][data-state="live"]').waitFor();
  await peer.page.locator('#chat-input').fill('좋은 아침이에요! 오늘은 32쪽까지 읽었어요 ☀️');
  await peer.page.locator('#chat-input').press('Enter');

  // The public profile of someone with attended sessions when there is one (the top of the
  // ranking, after app.test.mjs has run), so the heat map shows its colours; else the peer's.
  const ranked = await api.call('GET', '/api/rankings?period=all&limit=1');
  const profileId = ranked.body?.entries?.[0]?.userId ?? world.peerId;

  const routes = [
    { name: 'list', path: '/', ready: (p) => p.getByTestId('popular-tags').waitFor() },
    {
      name: 'list-tag',
      path: `/?tag=${encodeURIComponent('아침습관')}&sort=popular`,
      ready: (p) => p.getByTestId('tag-filter').waitFor().then(() => p.locator('.card').first().waitFor()),
    },
    {
      name: 'create',
      path: '/challenges/new',
      ready: async (p) => {
        await p.locator('#challenge-title').waitFor();
        // Two tags added and a third one being refused, so the chips and the message show.
        const box = p.locator('#challenge-tags');
        for (const tag of ['영어', '#아침공부', '영어']) {
          await box.fill(tag);
          await box.press('Enter');
        }
        await p.locator('.field__error').first().waitFor();
      },
    },
    { name: 'detail', path: `/challenges/${world.challengeId}`, ready: (p) => p.locator('.participant').first().waitFor() },
    {
      name: 'detail-modal',
      path: '/',
      ready: async (p) => {
        await p.locator('.card', { hasText: `매일 아침 책 20쪽 읽기 ${RUN}` }).click();
        await p.locator('dialog[open] .participant').first().waitFor();
      },
    },
    {
      name: 'live',
      path: `/challenges/${world.challengeId}/live`,
      ready: async (p) => {
        await p.waitForFunction(
          (uid) => document.querySelector(`video[data-remote][data-user-id="${uid}"]`)?.videoWidth > 0,
          world.peerId,
          { timeout: 30_000 },
        );
        await p.waitForFunction(() => document.querySelector('[data-testid="local-tile"] video')?.videoWidth > 0);
        await p.locator('[data-testid="chat-log"] li[data-message-id]').first().waitFor();
        await p.getByTestId('room-announcement').waitFor();
      },
    },
    { name: 'rankings', path: '/rankings', ready: (p) => p.locator('table.ranking, .state--empty, .state--error').first().waitFor() },
    { name: 'me', path: '/me', ready: (p) => p.locator('.heat__cell').first().waitFor().then(() => p.getByTestId('level-summary').waitFor()) },
    { name: 'me-wishes', path: '/me?tab=wishes', ready: (p) => p.getByTestId('wish-list').locator('.card').nth(1).waitFor() },
    { name: 'user', path: `/users/${profileId}`, ready: (p) => p.locator('.heat__cell').first().waitFor().then(() => p.getByTestId('level-summary').waitFor()) },
    { name: 'not-found', path: '/no-such-page', ready: (p) => p.locator('.state').first().waitFor() },
  ];

  // Charts drawn at once, not caught halfway through growing.
  await page.emulateMedia({ reducedMotion: 'reduce' });
  const found = [];
  let shots = 0;
  for (const lang of ['ko', 'en']) {
    await page.evaluate((l) => localStorage.setItem('ssgwan.language', l), lang);
    for (const [size, viewport] of Object.entries(SIZES)) {
      await page.setViewportSize(viewport);
      const shoot = async (name) => {
        await settle(page);
        // A modal is the top layer over the page: the screen as it is shows it (a full-page
        // capture would stretch the page under it).
        const fullPage = !name.endsWith('-modal');
        await page.screenshot({ path: path.join(SCREENS, `${lang}-${size}-${name}.png`), fullPage });
        shots += 1;
        for (const p of await problems(page, lang)) found.push(`${lang}-${size}-${name}: ${p}`);
      };

      // Signed out: the login page (the session cookie is set aside and put back).
      const cookies = await main.context.cookies();
      await main.context.clearCookies();
      await page.goto(`${BASE_URL}/login`);
      await page.locator('#dev-nickname').waitFor();
      await shoot('login');
      await main.context.addCookies(cookies);

      for (const route of routes) {
        await page.goto(`${BASE_URL}${route.path}`);
        await route.ready(page);
        await shoot(route.name);
      }
      // Leave the room so the camera stops before the next round.
      await page.goto(`${BASE_URL}/`);
    }
  }
  console.log(`  ${shots} screenshots in ${path.relative(process.cwd(), SCREENS)}`);
  assert.deepEqual(found, [], `problems seen on the pages:\n${found.join('\n')}`);
}));

test('no page broke the Content-Security-Policy', () => {
  assertNoCspViolations();
});
