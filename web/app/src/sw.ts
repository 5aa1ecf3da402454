/// <reference lib="webworker" />
// The service worker: it precaches the app shell and the wasm client core so
// the second load needs no network, and shows notifications for Web Push.
//
// Push payloads carry no plaintext: the server only knows that a conversation
// got a new message ({"c": conversation, "s": seq} at most). The worker cannot
// decrypt on its own (the MLS state lives with the page's wasm core), so it
// shows "New message" — unless a Parley tab is open and visible, in which case
// the page already shows the message and no notification is needed.
export {}
declare const self: ServiceWorkerGlobalScope

// Set at the top of sw.js at build time by vite.config.ts (parley-assets plugin).
const built = self as unknown as { __PARLEY_PRECACHE?: string[]; __PARLEY_VERSION?: string }
const PRECACHE: string[] = built.__PARLEY_PRECACHE ?? ['/']
const VERSION: string = built.__PARLEY_VERSION ?? 'dev'
const CACHE = `parley-shell-${VERSION}`

self.addEventListener('install', (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(CACHE)
      await Promise.all(PRECACHE.map((u) => precache(cache, u)))
      await self.skipWaiting()
    })(),
  )
})

// Files named by their content (Vite's assets/, and the core with ?v=<hash>)
// never change under their URL. The page has just downloaded them (the
// worker is registered after the app is up), so they come from the previous
// version's cache or the HTTP cache, never from the network a second time:
// on a first visit the 20 MB core is transferred once. Everything else
// (index.html, the manifest, icons) skips the HTTP cache so an update is
// really fetched.
function immutable(u: string): boolean {
  return u.startsWith('/assets/') || /[?&]v=[0-9a-f]{12}$/.test(u)
}

async function precache(cache: Cache, u: string): Promise<void> {
  if (immutable(u)) {
    const old = await caches.match(u)
    if (old) return cache.put(u, old)
    const res = await fetch(new Request(u, { cache: 'force-cache' }))
    if (!res.ok) throw new Error(`precache ${u}: ${res.status}`)
    return cache.put(u, res)
  }
  const res = await fetch(new Request(u, { cache: 'reload' }))
  if (!res.ok) throw new Error(`precache ${u}: ${res.status}`)
  return cache.put(u, res)
}

self.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      // Keep the previous version's cache too: a page loaded from it just
      // before this update may still ask for its (old) assets.
      const ours = (await caches.keys()).filter((n) => n.startsWith('parley-shell-'))
      const keep = new Set([CACHE, ...ours.filter((n) => n !== CACHE).slice(-1)])
      for (const name of ours) if (!keep.has(name)) await caches.delete(name)
      await self.clients.claim()
    })(),
  )
})

function isShell(url: URL): boolean {
  // The API, media and push endpoints always go to the network.
  return !(
    url.pathname.startsWith('/v1/') ||
    url.pathname.startsWith('/media/') ||
    url.pathname.startsWith('/push/') ||
    url.pathname === '/healthz'
  )
}

self.addEventListener('fetch', (event) => {
  const req = event.request
  if (req.method !== 'GET') return
  const url = new URL(req.url)
  if (url.origin !== self.location.origin || !isShell(url)) return
  event.respondWith(
    (async () => {
      const cache = await caches.open(CACHE)
      // Navigations get the cached app shell (a single-page app), so the app
      // opens offline and fast; everything else is cache-first by full URL,
      // from this version's cache or the previous one's.
      const hit = req.mode === 'navigate' ? await cache.match('/') : await caches.match(req)
      if (hit) return hit
      const res = await fetch(req)
      if (res.ok && url.search.includes('v=')) await cache.put(req, res.clone())
      return res
    })(),
  )
})

interface PushData {
  c?: string
  s?: number
}

self.addEventListener('push', (event) => {
  let data: PushData = {}
  try {
    data = (event.data?.json() as PushData) ?? {}
  } catch {
    data = {}
  }
  event.waitUntil(
    (async () => {
      const wins = await self.clients.matchAll({ type: 'window', includeUncontrolled: true })
      // Tell open pages (they may refresh the chat list); the visible one already
      // shows the message, so no notification then.
      for (const w of wins) w.postMessage({ type: 'push', conversation: data.c, seq: data.s })
      if (wins.some((w) => w.visibilityState === 'visible' && w.focused)) return
      // A chat muted on this device notifies nothing (the pages keep the
      // mutes here: see 'mutes' below).
      if (data.c && mutedNow((await mutes())[data.c])) return
      await self.registration.showNotification('New message', {
        body: 'Open Parley to read it.',
        icon: '/icon-192.png',
        badge: '/icon-192.png',
        tag: data.c ? `chat-${data.c}` : 'parley',
        data: { conversation: data.c ?? null },
      })
    })(),
  )
})

self.addEventListener('notificationclick', (event) => {
  event.notification.close()
  const conv = (event.notification.data as { conversation?: string | null } | null)?.conversation
  const target = conv ? `/#/chat/${encodeURIComponent(conv)}` : '/'
  event.waitUntil(
    (async () => {
      const wins = await self.clients.matchAll({ type: 'window', includeUncontrolled: true })
      for (const w of wins) {
        if (new URL(w.url).origin === self.location.origin) {
          await w.focus()
          w.postMessage({ type: 'open', conversation: conv ?? null })
          return
        }
      }
      await self.clients.openWindow(target)
    })(),
  )
})

// Mutes: the page posts {type: 'mutes', mutes: {conversation: until}} (until
// Unix ms, -1 for always) whenever it loads the chat list; they are kept in
// Cache Storage so that a push waking a stopped worker still sees them.
const MUTES_CACHE = 'parley-mutes'
const MUTES_KEY = '/__parley/mutes'

async function mutes(): Promise<Record<string, number>> {
  try {
    const res = await (await caches.open(MUTES_CACHE)).match(MUTES_KEY)
    return res ? ((await res.json()) as Record<string, number>) : {}
  } catch {
    return {}
  }
}

function mutedNow(until: number | undefined): boolean {
  return until === -1 || (until ?? 0) > Date.now()
}

self.addEventListener('message', (event) => {
  const d = event.data as { type?: string; mutes?: Record<string, number> } | null
  if (d?.type !== 'mutes' || !d.mutes) return
  const body = JSON.stringify(d.mutes)
  event.waitUntil(caches.open(MUTES_CACHE).then((c) => c.put(MUTES_KEY, new Response(body, { headers: { 'content-type': 'application/json' } }))))
})
