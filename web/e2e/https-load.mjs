// Loads the browser client from an HTTPS URL and waits for its onboarding
// screen: the page, its scripts and the WebAssembly core over TLS, under the
// server's Content-Security-Policy. e2e/acme_browser_test.go runs it against
// a server whose certificate Pebble issued:
//
//   node https-load.mjs URL HOST SPKI_SHA256_BASE64
//
// HOST is resolved to 127.0.0.1; the certificate chain is accepted through
// the key of one of its certificates (the test verifies the chain itself).
// Prints "ok" or fails with the page's console and the DOM.
import { chromium } from 'playwright-core'
import { chromiumArgs, CHROMIUM } from './harness.mjs'

const [url, host, spki] = process.argv.slice(2)
const browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: [...chromiumArgs, `--host-resolver-rules=MAP ${host} 127.0.0.1`, `--ignore-certificate-errors-spki-list=${spki}`],
})
const console_ = []
try {
  const page = await browser.newPage()
  page.on('console', (m) => console_.push(`${m.type()}: ${m.text()}`))
  page.on('pageerror', (e) => console_.push(`pageerror: ${e.message}`))
  const resp = await page.goto(url)
  if (!resp.ok()) throw new Error(`GET ${url}: ${resp.status()}`)
  try {
    await page.getByLabel('Phone number').waitFor({ timeout: 60000 })
  } catch (e) {
    throw new Error(`no onboarding screen: ${e.message}\nconsole:\n${console_.join('\n')}\nDOM:\n${await page.content()}`)
  }
  const csp = console_.filter((l) => l.includes('Content Security Policy'))
  if (csp.length) throw new Error(`CSP violations:\n${csp.join('\n')}`)
  console.log('ok')
} finally {
  await browser.close()
}
