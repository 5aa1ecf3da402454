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
