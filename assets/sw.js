// Service worker for the Investment App (PWA).
// Bump CACHE on every deploy so clients drop the old static files.
const CACHE = "invest-v1";

// Shell files available offline from the first visit.
const PRECACHE = [
  "/offline.html",
  "/favicon.ico",
  "/icons/icon-192.png",
  "/icons/icon-512.png",
  "/icons/maskable-512.png",
  "/icons/apple-touch-icon.png",
];

// Live backend paths: never intercepted, never cached (Reflex websocket, REST API, uploads, health).
const BYPASS = ["/_event", "/api", "/_upload", "/_health", "/ping"];

// Static files: the built bundle under /assets/, or anything with a static file extension.
const STATIC_EXT = /\.(?:js|mjs|css|png|jpe?g|svg|webp|gif|ico|woff2?)$/i;

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(CACHE).then((cache) => cache.addAll(PRECACHE)).then(() => self.skipWaiting())
  );
});

self.addEventListener("activate", (event) => {
  // Delete caches from earlier versions, then take control of open tabs.
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim())
  );
});

self.addEventListener("fetch", (event) => {
  const req = event.request;
  if (req.method !== "GET") return; // writes always go to the network
  if (req.headers.get("Upgrade") === "websocket") return;
  const url = new URL(req.url);
  if (url.origin !== self.location.origin) return; // cross-origin: let the browser handle it
  if (BYPASS.some((p) => url.pathname === p || url.pathname.startsWith(p + "/"))) return;

  // Page loads: network first, the offline page when the network is down.
  if (req.mode === "navigate") {
    event.respondWith(fetch(req).catch(() => caches.match("/offline.html")));
    return;
  }

  // Static assets: stale-while-revalidate (answer from the cache, refresh it in the background).
  if (url.pathname.startsWith("/assets/") || STATIC_EXT.test(url.pathname)) {
    event.respondWith(
      caches.open(CACHE).then(async (cache) => {
        const cached = await cache.match(req);
        const network = fetch(req)
          .then((res) => {
            if (res.ok && res.type === "basic") cache.put(req, res.clone());
            return res;
          })
          .catch(() => cached);
        if (cached) {
          event.waitUntil(network); // keep the worker alive until the refresh is stored
          return cached;
        }
        return network;
      })
    );
  }
  // Everything else: no respondWith, default network behaviour.
});
