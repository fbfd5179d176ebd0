/*
 * The service worker: shows Web Push notifications and opens the page a click asks for.
 * The server sends `{id, kind, title, body, url, data}` (encrypted; the browser decrypts it).
 * Kept plain JavaScript in public/ so it is served from the site's root, uncached, as /sw.js
 * (its scope is the whole app; CSP worker-src 'self').
 */
self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

self.addEventListener('push', (event) => {
  let message = {};
  try {
    message = event.data ? event.data.json() : {};
  } catch {
    message = { body: event.data ? event.data.text() : '' };
  }
  const title = message.title || '쓱관';
  event.waitUntil(
    self.registration.showNotification(title, {
      body: message.body || '',
      tag: message.id ? `ssgwan-${message.id}` : undefined,
      icon: '/favicon.svg',
      data: { url: message.url || '/' },
    }),
  );
});

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const target = new URL((event.notification.data && event.notification.data.url) || '/', self.location.origin);
  // Only pages of this site are opened.
  const url = target.origin === self.location.origin ? target.href : self.location.origin + '/';
  event.waitUntil(
    self.clients.matchAll({ type: 'window', includeUncontrolled: true }).then((windows) => {
      for (const client of windows) {
        if ('navigate' in client && 'focus' in client) {
          return client.navigate(url).then((c) => (c ? c.focus() : self.clients.openWindow(url)));
        }
      }
      return self.clients.openWindow(url);
    }),
  );
});
