// The first load of the browser client, seen from the network: a fresh
// browser opens the app through a counting proxy (the test's own listener,
// so nothing depends on the browser's account of its traffic), on an
// emulated 10 Mbit/s link with 40 ms latency so the boot screen's progress
// is visible. The client core must be transferred exactly once — the service
// worker's install reuses what the page downloaded — compressed with
// Brotli, and a reload must come from the service worker's cache.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { countingProxy, launch, parleyBinary, startServer } from './harness.mjs'

let server, proxy, browser

before(async () => {
  server = await startServer(await parleyBinary())
  proxy = await countingProxy(server.url)
  browser = await launch()
})

after(async () => {
  await browser?.close()
  await proxy?.close()
  await server?.stop()
})

test('a first visit shows progress and transfers the core once', async () => {
  const ctx = await browser.newContext({ viewport: { width: 1100, height: 760 } })
  const page = await ctx.newPage()
  page.setDefaultTimeout(60000)
  const cdp = await ctx.newCDPSession(page)
  await cdp.send('Network.enable')
  await cdp.send('Network.emulateNetworkConditions', {
    offline: false,
    latency: 40,
    downloadThroughput: (10e6 / 8) | 0,
    uploadThroughput: (10e6 / 8) | 0,
  })
  await page.goto(proxy.url + '/')

  // The boot screen: a progress bar of the core's bytes that moves.
  const bar = page.getByRole('progressbar', { name: 'Loading Parley' })
  await bar.waitFor()
  // Poll (with a deadline) until the bar has shown part of the core and the
  // text has said how much, while the boot screen lasts.
  const deadline = Date.now() + 60000
  const text = page.getByText(/^Loading the encrypted core: [0-9.]+ of [0-9.]+ MB$/)
  let progressed = false
  let told = false
  while (!(progressed && told) && Date.now() < deadline && (await bar.count()) > 0) {
    const [now, max] = await bar.evaluate((el) => [el.value, el.max]).catch(() => [0, 0])
    progressed ||= now > 0 && max > 1 && now <= max
    told ||= (await text.count()) > 0
    if (!(progressed && told)) await new Promise((r) => setTimeout(r, 20))
  }
  assert.ok(progressed, 'the progress bar never showed bytes of the core')
  assert.ok(told, 'the boot screen never said how much of the core was loaded')

  await page.getByRole('heading', { name: 'Welcome to Parley' }).waitFor()
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 })

  // The service worker installs (precaching the app) and takes the page over.
  await page.evaluate(async () => {
    await navigator.serviceWorker.ready
    if (!navigator.serviceWorker.controller) await new Promise((r) => navigator.serviceWorker.addEventListener('controllerchange', r, { once: true }))
  })
  const wasm = proxy.responses().filter((r) => r.path === '/parley.wasm')
  assert.equal(wasm.length, 1, `parley.wasm was relayed ${wasm.length} times: ${JSON.stringify(wasm)}`)
  assert.equal(wasm[0].status, 200)
  assert.equal(wasm[0].encoding, 'br', 'the core is sent with Brotli to a browser that accepts it')
  // Every hashed asset once too.
  const assets = proxy.responses().filter((r) => r.path.startsWith('/assets/'))
  assert.equal(new Set(assets.map((r) => r.path)).size, assets.length, `an asset was downloaded twice: ${JSON.stringify(assets)}`)
  const firstVisit = proxy.total()

  // A reload comes from the service worker's cache: no byte of the core.
  proxy.reset()
  await page.reload()
  await page.getByRole('heading', { name: 'Welcome to Parley' }).waitFor()
  assert.equal(proxy.responses().filter((r) => r.path === '/parley.wasm').length, 0, 'the core was downloaded again on reload')
  console.log(`first visit: ${firstVisit} bytes relayed; reload: ${proxy.total()} bytes`)
  await ctx.close()
})
