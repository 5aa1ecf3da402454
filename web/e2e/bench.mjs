// The browser client's benchmark, run by hand (prints one JSON object a line):
//
//   bash scripts/build-web.sh && go build -o /tmp/parley ./cmd/parley
//   cd web/e2e && npm ci && PARLEY_BIN=/tmp/parley node bench.mjs [--messages 10000]
//
// It measures, against a real `parley serve` on 127.0.0.1 and Debian's Chromium:
//   - transfer sizes of the app: wasm raw, Brotli and gzip, JS, CSS (what the server sends)
//   - a first visit through a counting proxy (every byte the page and its
//     service worker receive, by the bench's own listener), and the time from
//     navigation to a usable first screen, cold, on loopback and on an
//     emulated 10 Mbit/s link with 40 ms latency (Chromium's network
//     emulation; targets: under 3.5 MB and under 3.5 s)
//   - first load: cold (empty cache) and warm (the service worker's cache), from
//     navigation to the first screen rendered by the wasm client core
//   - a chat of N messages (default 10,000), sent by a CLI profile with
//     web/e2e/seed: how long the browser takes to receive and decrypt them all,
//     to open the chat, and frame times while scrolling it top to bottom, with
//     the number of rows in the DOM (the list is virtualised).
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { mkdtempSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { cli, cliProfile, countingProxy, launch, parleyBinary, person, register, repo, startServer } from './harness.mjs'

const run = promisify(execFile)
const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`)
  return i > 0 ? process.argv[i + 1] : def
}
const N = Number(arg('messages', '10000'))
// Every line carries the time and the machine's load average (1 min), since
// the machine may be shared.
const out = (o) => console.log(JSON.stringify({ ...o, at: new Date().toISOString(), load1: Math.round(loadavg()[0] * 10) / 10 }))
const q = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]
}
const r1 = (x) => Math.round(x * 10) / 10

const bin = await parleyBinary()
const server = await startServer(bin, ['--sqlite-sync', 'normal'])
const browser = await launch()
try {
  // ---- sizes, as served ----
  const html = await (await fetch(server.url + '/')).text()
  const assets = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1])
  const sizes = {}
  for (const path of ['/parley.wasm', '/wasm_exec.js', ...assets]) {
    const raw = Buffer.from(await (await fetch(server.url + path, { headers: { 'accept-encoding': 'identity' } })).arrayBuffer())
    // What goes over the wire when the browser accepts Brotli and gzip, as Chromium does.
    const res = await new Promise((resolve, reject) => {
      import('node:http').then(({ get }) =>
        get(server.url + path, { headers: { 'accept-encoding': 'gzip, deflate, br, zstd' } }, (r) => {
          let n = 0
          r.on('data', (d) => (n += d.length))
          r.on('end', () => resolve({ n, enc: r.headers['content-encoding'] ?? 'identity', cc: r.headers['cache-control'] ?? '' }))
        }).on('error', reject),
      )
    })
    const name = path.replace(/^\/assets\//, '').replace(/-[A-Za-z0-9_-]{8}\./, '.')
    sizes[name] = { raw: raw.length, wire: res.n, encoding: res.enc, gzip9: gzipSync(raw, { level: 9 }).length, cacheControl: res.cc }
  }
  out({ bench: 'web_sizes', ...sizes })

  // ---- a first visit, counted by our own proxy; time to a usable screen ----
  const proxy = await countingProxy(server.url)
  const firstVisit = async (link) => {
    proxy.reset()
    const c = await browser.newContext({ viewport: { width: 1100, height: 760 } })
    const pg = await c.newPage()
    const cdp = await c.newCDPSession(pg)
    await cdp.send('Network.enable')
    if (link) await cdp.send('Network.emulateNetworkConditions', { offline: false, ...link })
    const t0 = Date.now()
    await pg.goto(proxy.url + '/')
    await pg.getByRole('heading', { name: 'Welcome to Parley' }).waitFor({ timeout: 120000 })
    const usableMs = Date.now() - t0
    const usableBytes = proxy.total()
    // Then the service worker installs; the visit is complete when it controls the page.
    await pg.evaluate(async () => {
      await navigator.serviceWorker.ready
      if (!navigator.serviceWorker.controller) await new Promise((r) => navigator.serviceWorker.addEventListener('controllerchange', r, { once: true }))
    })
    const rs = proxy.responses()
    const wasm = rs.filter((r) => r.path === '/parley.wasm')
    await c.close()
    return { usableMs, bytesWhenUsable: usableBytes, bytesFirstVisit: proxy.total(), requests: rs.length, wasmDownloads: wasm.length, wasmBytes: wasm.reduce((n, r) => n + r.bytes, 0), wasmEncoding: wasm[0]?.encoding ?? '' }
  }
  const emulated = { latency: 40, downloadThroughput: (10e6 / 8) | 0, uploadThroughput: (10e6 / 8) | 0 }
  for (let i = 0; i < 3; i++) out({ bench: 'web_first_visit', link: 'loopback', run: i + 1, ...(await firstVisit(null)) })
  for (let i = 0; i < 3; i++) out({ bench: 'web_first_visit', link: '10Mbit/s 40ms', run: i + 1, ...(await firstVisit(emulated)) })
  await proxy.close()

  // ---- first load, cold then warm ----
  const ctx = await browser.newContext({ viewport: { width: 1100, height: 760 } })
  const page = await ctx.newPage()
  const loadOnce = async (label) => {
    const t0 = Date.now()
    await page.goto(server.url + '/')
    await page.getByRole('heading', { name: 'Welcome to Parley' }).waitFor({ timeout: 60000 })
    const wall = Date.now() - t0
    const m = await page.evaluate(() => {
      const nav = performance.getEntriesByType('navigation')[0]
      const res = performance.getEntriesByType('resource')
      const wasm = res.find((r) => r.name.includes('parley.wasm'))
      return {
        renderedMs: performance.now(),
        domContentLoadedMs: nav.domContentLoadedEventEnd,
        core: globalThis.parleyLoad,
        transferred: res.reduce((a, r) => a + r.transferSize, 0) + nav.transferSize,
        wasmTransfer: wasm ? wasm.transferSize : -1,
        controlled: !!navigator.serviceWorker.controller,
      }
    })
    out({ bench: 'web_first_load', cache: label, wallMs: wall, renderedMs: r1(m.renderedMs), coreFetchCompileMs: r1(m.core?.fetchAndCompileMs ?? -1), coreReadyMs: r1(m.core?.readyMs ?? -1), bytesTransferred: m.transferred, wasmBytesTransferred: m.wasmTransfer, serviceWorker: m.controlled })
  }
  await loadOnce('cold')
  await page.evaluate(async () => {
    const reg = await navigator.serviceWorker.ready
    if (!navigator.serviceWorker.controller) await new Promise((r) => navigator.serviceWorker.addEventListener('controllerchange', r, { once: true }))
    return reg.active?.state
  })
  for (let i = 0; i < 3; i++) await loadOnce('warm')
  await ctx.close()

  // ---- a chat of N messages (--messages 0 measures loading only) ----
  if (N > 0) await chatOfN()
} finally {
  await browser.close()
  await server.stop()
}

async function chatOfN() {
  const me = await person(browser, server, 'Bench')
  await register(me, server, '+14155550191')
  const seeder = cliProfile('seed')
  await cli(bin, seeder, ['account', 'register', '--server', server.url, '--phone', '+14155550192', '--name', 'Seeder'])
  await cli(bin, seeder, ['account', 'verify', '--code', await server.code('+14155550192')])
  const seedBin = join(mkdtempSync(join(tmpdir(), 'parley-seed-')), 'seed')
  await run('go', ['build', '-o', seedBin, './web/e2e/seed'], { cwd: repo })
  const tSeed = Date.now()
  // The browser stays open and receives while the seeder sends.
  const { stdout } = await run(seedBin, ['--profile', seeder, '--to', '+14155550191', '--n', String(N)], { maxBuffer: 1 << 20 })
  out({ bench: 'web_seed', ...JSON.parse(stdout.trim()) })
  const last = `Message ${N}:`
  const p = me.page
  await p.locator('.chat-row', { hasText: last }).waitFor({ timeout: 30 * 60000 })
  out({ bench: 'web_receive', messages: N, secondsFromFirstSend: r1((Date.now() - tSeed) / 1000) })

  const tOpen = Date.now()
  await p.locator('.chat-row', { hasText: last }).getByRole('button', { name: /^Open chat/ }).click()
  await p.locator('.msg', { hasText: last }).waitFor()
  const openMs = Date.now() - tOpen
  // Load the whole history: scrolling to the top asks for older messages.
  const tAll = Date.now()
  await p.evaluate(async () => {
    const el = document.querySelector('.vlist')
    for (let i = 0; i < 400; i++) {
      if ([...document.querySelectorAll('.msg')].some((m) => m.textContent.includes('Message 1:'))) return
      el.scrollTop = el.scrollTop === 0 ? 1 : 0
      await new Promise((r) => setTimeout(r, 150))
    }
  })
  await p.locator('.msg', { hasText: 'Message 1:' }).first().waitFor({ timeout: 120000 })
  const allMs = Date.now() - tAll
  const scroll = await p.evaluate(async () => {
    const el = document.querySelector('.vlist')
    el.scrollTop = 0
    await new Promise((r) => setTimeout(r, 500))
    const frames = []
    let maxRows = 0
    let last = performance.now()
    const t0 = last
    await new Promise((res) => {
      const step = (t) => {
        frames.push(t - last)
        last = t
        maxRows = Math.max(maxRows, document.querySelectorAll('.vrow').length)
        if (el.scrollTop + el.clientHeight >= el.scrollHeight - 2 || frames.length > 20000) return res()
        el.scrollTop += 500
        requestAnimationFrame(step)
      }
      requestAnimationFrame(step)
    })
    return { frames: frames.slice(1), maxRows, ms: performance.now() - t0, height: el.scrollHeight }
  })
  out({
    bench: 'web_scroll',
    messages: N,
    openChatMs: openMs,
    loadWholeHistoryMs: allMs,
    scrollHeightPx: scroll.height,
    frames: scroll.frames.length,
    pxPerFrame: 500,
    frameMsP50: r1(q(scroll.frames, 50)),
    frameMsP95: r1(q(scroll.frames, 95)),
    frameMsMax: r1(Math.max(...scroll.frames)),
    maxRowsInDOM: scroll.maxRows,
    scrollSeconds: r1(scroll.ms / 1000),
  })
}
