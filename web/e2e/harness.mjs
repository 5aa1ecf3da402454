// Test harness of the browser client: a real `parley serve` (the binary with
// the built web app embedded), Debian's Chromium driven by playwright-core,
// and the `parley` CLI as a second kind of client.
import { spawn, execFile } from 'node:child_process'
import { mkdtempSync, mkdirSync, existsSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { chromium } from 'playwright-core'

const run = promisify(execFile)
export const here = dirname(fileURLToPath(import.meta.url))
export const repo = resolve(here, '../..')
export const screenshots = join(here, 'screenshots')
export const CHROMIUM = process.env.PARLEY_CHROMIUM || '/usr/bin/chromium'

export const chromiumArgs = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // Calls and voice notes: a fake microphone and camera (a beep and a test
  // pattern), granted without a prompt.
  '--use-fake-ui-for-media-stream',
  '--use-fake-device-for-media-stream',
]

/** The parley binary: $PARLEY_BIN (scripts/test-web.sh builds it), else built here. */
export async function parleyBinary() {
  if (process.env.PARLEY_BIN) return process.env.PARLEY_BIN
  const dir = mkdtempSync(join(tmpdir(), 'parley-web-bin-'))
  const bin = join(dir, 'parley')
  await run('go', ['build', '-o', bin, './cmd/parley'], { cwd: repo, maxBuffer: 1 << 24 })
  return bin
}

/**
 * A running `parley serve` on 127.0.0.1 with a fresh data directory. The dev
 * code sender logs "verification code for <phone>: <code>"; code() waits for it.
 */
export async function startServer(bin, extraArgs = []) {
  const data = mkdtempSync(join(tmpdir(), 'parley-web-data-'))
  const proc = spawn(bin, ['serve', '--data', data, '--listen', '127.0.0.1:0', ...extraArgs], { stdio: ['ignore', 'ignore', 'pipe'] })
  let log = ''
  const codes = new Map()
  const waiters = []
  let onListen
  const listening = new Promise((res, rej) => {
    onListen = res
    proc.on('exit', (c) => rej(new Error(`parley serve exited (${c}) before listening:\n${log}`)))
    setTimeout(() => rej(new Error(`parley serve did not listen in 30 s:\n${log}`)), 30000)
  })
  let buf = ''
  proc.stderr.setEncoding('utf8')
  proc.stderr.on('data', (d) => {
    log += d
    buf += d
    let i
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i)
      buf = buf.slice(i + 1)
      const l = /listening on (http:\/\/[0-9.:]+)/.exec(line)
      if (l) onListen(l[1])
      const m = /verification code for (\+[0-9]+): ([0-9]+)/.exec(line)
      if (m) {
        codes.set(m[1], m[2])
        waiters.splice(0).forEach((w) => w())
      }
    }
  })
  const url = await listening
  return {
    url,
    data,
    log: () => log,
    async code(phone, timeoutMs = 15000) {
      const end = Date.now() + timeoutMs
      for (;;) {
        const c = codes.get(phone)
        if (c) {
          codes.delete(phone)
          return c
        }
        if (Date.now() > end) throw new Error(`no verification code for ${phone}`)
        await new Promise((r) => {
          waiters.push(r)
          setTimeout(r, 200)
        })
      }
    },
    async stop() {
      if (proc.exitCode !== null) return
      const done = new Promise((r) => proc.on('exit', r))
      proc.kill('SIGTERM')
      const t = setTimeout(() => proc.kill('SIGKILL'), 10000)
      await done
      clearTimeout(t)
      rmSync(data, { recursive: true, force: true })
    },
  }
}

export async function launch() {
  return chromium.launch({ executablePath: CHROMIUM, args: chromiumArgs })
}

/**
 * A person: a browser context of its own (its own IndexedDB, so its own
 * device) with one page on the server. Console errors are kept for failures.
 */
export async function person(browser, server, name, opts = {}) {
  const ctx = await browser.newContext({ viewport: opts.viewport ?? { width: 1100, height: 760 }, colorScheme: opts.colorScheme ?? 'light' })
  const page = await ctx.newPage()
  const logs = []
  page.on('console', (m) => logs.push(`[${name}] ${m.type()}: ${m.text()}`))
  page.on('pageerror', (e) => logs.push(`[${name}] pageerror: ${e.message}`))
  page.setDefaultTimeout(opts.timeout ?? 30000)
  await page.goto(server.url + '/')
  return { name, ctx, page, logs }
}

/** Register through the onboarding screens with the code from the server log. */
export async function register(p, server, phone) {
  const { page } = p
  await page.getByLabel('Phone number').fill(phone)
  await page.getByLabel('Your name').fill(p.name)
  await page.getByRole('button', { name: 'Send code' }).click()
  const code = await server.code(phone)
  await page.getByLabel('Verification code').fill(code)
  await page.getByRole('button', { name: 'Verify' }).click()
  await page.getByRole('heading', { name: 'Chats' }).waitFor()
}

export async function shot(page, name) {
  mkdirSync(screenshots, { recursive: true })
  await page.screenshot({ path: join(screenshots, `${name}.png`) })
}

/** Run the parley CLI with --json on a profile; resolves with the JSON lines. */
export async function cli(bin, profile, args, timeoutMs = 60000) {
  try {
    const { stdout } = await run(bin, ['--json', '--profile', profile, ...args], { timeout: timeoutMs, maxBuffer: 1 << 24 })
    return stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l))
  } catch (e) {
    throw new Error(`parley ${args.join(' ')}: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`)
  }
}

/** A CLI device: a fresh profile directory. */
export function cliProfile(name) {
  const dir = mkdtempSync(join(tmpdir(), `parley-cli-${name}-`))
  return join(dir, 'profile')
}

export function chromiumPresent() {
  return existsSync(CHROMIUM)
}

/**
 * An HTTP proxy on 127.0.0.1 in front of the server that counts what it
 * relays: the bytes of every response (status line, headers and body as
 * sent, i.e. still compressed), by path. The browser is pointed at it, so
 * the test sees every request of the page and of its service worker, from
 * its own listener rather than from the browser's account of them.
 * WebSocket upgrades are relayed (and counted under their path) too.
 */
export async function countingProxy(target) {
  const http = await import('node:http')
  const net = await import('node:net')
  const up = new URL(target)
  const seen = [] // { path, status, encoding, bytes }
  const server = http.createServer((req, res) => {
    const fwd = http.request(
      { host: up.hostname, port: up.port, method: req.method, path: req.url, headers: { ...req.headers, host: up.host } },
      (r) => {
        const entry = { path: req.url.split('?')[0], url: req.url, status: r.statusCode, encoding: r.headers['content-encoding'] ?? '', bytes: 0 }
        seen.push(entry)
        // The status line and headers as relayed: each name is followed by
        // ": " and each value by CRLF, and an empty line ends them.
        entry.bytes += `HTTP/1.1 ${r.statusCode} ${r.statusMessage}\r\n`.length + r.rawHeaders.reduce((n, h) => n + h.length + 2, 0) + 2
        res.writeHead(r.statusCode, r.statusMessage, r.rawHeaders)
        r.on('data', (d) => (entry.bytes += d.length))
        r.pipe(res)
      },
    )
    fwd.on('error', (e) => res.destroy(e))
    req.pipe(fwd)
  })
  server.on('upgrade', (req, sock, head) => {
    const entry = { path: req.url.split('?')[0], url: req.url, status: 101, encoding: '', bytes: 0 }
    seen.push(entry)
    const u = net.connect(Number(up.port), up.hostname, () => {
      const lines = [`${req.method} ${req.url} HTTP/1.1`]
      for (let i = 0; i < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`)
      u.write(lines.join('\r\n') + '\r\n\r\n')
      if (head?.length) u.write(head)
      u.on('data', (d) => (entry.bytes += d.length))
      u.pipe(sock)
      sock.pipe(u)
    })
    u.on('error', () => sock.destroy())
    sock.on('error', () => u.destroy())
  })
  const sockets = new Set()
  server.on('connection', (s) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  await new Promise((r) => server.listen(0, '127.0.0.1', r))
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    /** the responses relayed so far, in order */
    responses: () => seen.slice(),
    /** bytes relayed so far, all responses together */
    total: () => seen.reduce((n, e) => n + e.bytes, 0),
    reset: () => seen.splice(0),
    async close() {
      for (const s of sockets) s.destroy()
      await new Promise((r) => server.close(r))
    },
  }
}
