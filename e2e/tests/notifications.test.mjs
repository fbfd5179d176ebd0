/**
 * Notifications end to end, in real Chromium against the real server (started by run.sh):
 * the bell counts up live when someone joins my challenge and down when I read; the service
 * worker registers, and a push delivered through the DevTools protocol
 * (`ServiceWorker.deliverPushMessage`) is shown as a notification that links to the live room.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { BASE_URL, assertNoCspViolations, closeAll, launchBrowser, seoulDate, withScreenshots } from '../lib/harness.mjs';

const RUN = Date.now().toString(36).slice(-5);
const NIA = `니아${RUN}`;
let nia;
const state = { challengeId: 0 };

before(async () => {
  nia = await launchBrowser('nia', { viewport: { width: 1280, height: 860 } });
});

after(async () => {
  await closeAll();
});

const url = (p) => `${BASE_URL}${p}`;

/** Signs in another user over the API and returns their bearer token. */
async function apiLogin(nickname) {
  const response = await fetch(url('/api/auth/dev-login'), {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ nickname }),
  });
  assert.equal(response.status, 200);
  return (await response.json()).token;
}

test('the bell counts a new member live and clears when read', withScreenshots('bell', async () => {
  const { page } = nia;
  await page.goto(url('/login'));
  const submit = page.getByRole('button', { name: '닉네임으로 로그인' });
  await submit.waitFor();
  await page.locator('#dev-nickname').fill(NIA);
  await submit.click();
  await page.getByTestId('bell').waitFor();
  assert.equal(await page.getByTestId('bell-count').count(), 0, 'nothing unread yet');

  state.challengeId = await page.evaluate(async (startDate) => {
    const response = await fetch('/api/challenges', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Requested-With': 'XMLHttpRequest' },
      body: JSON.stringify({
        title: '알림 테스트', description: '', category: 'STUDY', capacity: 5, startDate, endDate: startDate,
        sessionStart: '06:00', sessionEnd: '07:00', timezone: 'Asia/Seoul', minMinutes: 10, successRate: 80,
      }),
    });
    return (await response.json()).id;
  }, seoulDate(1));
  assert.ok(state.challengeId > 0);

  for (const [i, name] of [`손님${RUN}`, `방문${RUN}`].entries()) {
    const token = await apiLogin(name);
    const joined = await fetch(url(`/api/challenges/${state.challengeId}/participants`), {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}` },
    });
    assert.equal(joined.status, 201);
    // Live: no reload, the socket's notification frame moves the count.
    await page.getByTestId('bell-count').filter({ hasText: String(i + 1) }).waitFor();
  }

  await page.getByTestId('bell').click();
  await page.getByRole('dialog', { name: '알림' }).getByText(`손님${RUN} 님이 참여했어요.`).waitFor();
  await page.getByRole('button', { name: '모두 읽음' }).click();
  await page.getByTestId('bell-count').waitFor({ state: 'detached' });
  // The server agrees after a reload.
  await page.reload();
  await page.getByTestId('bell').waitFor();
  assert.equal(await page.getByTestId('bell-count').count(), 0);
  assertNoCspViolations();
}));

test('the service worker registers and shows a pushed notification for the live room', withScreenshots('push', async () => {
  const { page, context } = nia;
  assert.ok(state.challengeId, 'the bell step made a challenge');
  const scriptURL = await page.evaluate(async () => (await navigator.serviceWorker.ready).active?.scriptURL);
  assert.equal(scriptURL, url('/sw.js'));

  await context.grantPermissions(['notifications'], { origin: BASE_URL });
  const cdp = await context.newCDPSession(page);
  const registrationId = new Promise((resolve) => {
    cdp.on('ServiceWorker.workerRegistrationUpdated', ({ registrations }) => {
      const mine = registrations.find((r) => r.scopeURL === url('/'));
      if (mine) resolve(mine.registrationId);
    });
  });
  await cdp.send('ServiceWorker.enable');
  const live = url(`/challenges/${state.challengeId}/live`);
  await cdp.send('ServiceWorker.deliverPushMessage', {
    origin: BASE_URL,
    registrationId: await registrationId,
    data: JSON.stringify({ id: 9001, kind: 'SESSION_REMINDER', title: '알림 테스트', body: '10분 뒤에 세션이 시작됩니다.', url: live }),
  });
  let shown = [];
  for (let i = 0; i < 50 && shown.length === 0; i += 1) {
    shown = await page.evaluate(async () =>
      (await (await navigator.serviceWorker.ready).getNotifications()).map((n) => ({ title: n.title, body: n.body, url: n.data?.url })),
    );
    if (shown.length === 0) await page.waitForTimeout(100);
  }
  assert.deepEqual(shown, [{ title: '알림 테스트', body: '10분 뒤에 세션이 시작됩니다.', url: live }]);
  assertNoCspViolations();
}));
