// icloud2mqtt service worker: shows Web Push notifications and opens the right page on click.
// Registered with a relative URL, so its scope is the UI's base path (also under HA ingress).

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

self.addEventListener("push", (event) => {
  let message = { title: "icloud2mqtt", body: "", tag: "icloud2mqtt", url: "" };
  try {
    message = { ...message, ...event.data?.json() };
  } catch {
    message.body = event.data?.text() ?? "";
  }
  const shown = self.registration.showNotification(message.title, {
    body: message.body,
    tag: message.tag,
    icon: "icon-192.png",
    data: { url: new URL(message.url, self.registration.scope).href },
  });
  const badge = navigator.setAppBadge ? navigator.setAppBadge().catch(() => undefined) : Promise.resolve();
  event.waitUntil(Promise.all([shown, badge]));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const target = event.notification.data?.url ?? self.registration.scope;
  event.waitUntil(
    (async () => {
      if (navigator.clearAppBadge) await navigator.clearAppBadge().catch(() => undefined);
      const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
      for (const client of windows) {
        if (client.url.startsWith(self.registration.scope) && "navigate" in client) {
          await client.focus();
          return client.navigate(target);
        }
      }
      return self.clients.openWindow(target);
    })(),
  );
});
