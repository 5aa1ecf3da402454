import { render } from 'preact'
import './styles.css'
import { loadCore } from './core/loader'
import { App } from './ui/app'
import { applyTheme, errText, setApi, startEvents } from './ui/lib'

applyTheme()
matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => applyTheme())

// The service worker is registered once the app is up: its install downloads
// the whole app again into its cache, which must not compete with the first
// load of the wasm core.
function registerWorker() {
  if ('serviceWorker' in navigator && location.protocol !== 'file:') {
    navigator.serviceWorker.register('/sw.js').catch((e) => console.warn('service worker not registered', e))
  }
}

const root = document.getElementById('app')!

const MB = (n: number) => (n / 1e6).toFixed(1)

/**
 * The boot screen while the client core downloads and starts: a progress bar
 * of the core's bytes (decoded), then "Opening your chats" while it compiles
 * the last part and loads the device's state from IndexedDB.
 */
function Boot({ loaded, total }: { loaded: number; total: number }) {
  const done = total > 0 && loaded >= total
  return (
    <main class="boot" aria-busy="true" aria-label="Starting Parley">
      <div class="boot-card">
        <img src="/icon.svg" alt="" width={64} height={64} />
        <h1>Parley</h1>
        <progress aria-label="Loading Parley" max={total || 1} value={total ? Math.min(loaded, total) : undefined} />
        <p class="muted">
          {done ? 'Opening your chats…' : total ? `Loading the encrypted core: ${MB(loaded)} of ${MB(total)} MB` : 'Loading the encrypted core…'}
        </p>
      </div>
    </main>
  )
}

// Progress events come per network chunk; the screen is redrawn once a frame.
let frame = 0
let started = false
let shown = { loaded: 0, total: 0 }
render(<Boot {...shown} />, root)
const onProgress = (loaded: number, total: number) => {
  shown = { loaded, total }
  if (frame || started) return
  frame = requestAnimationFrame(() => {
    frame = 0
    render(<Boot {...shown} />, root)
  })
}

loadCore(onProgress)
  .then((p) => {
    started = true
    cancelAnimationFrame(frame)
    render(null, root)
    setApi(p)
    startEvents()
    render(<App />, root)
    setTimeout(registerWorker, 0)
  })
  .catch((e) => {
    started = true
    cancelAnimationFrame(frame)
    render(null, root)
    root.innerHTML = ''
    const d = document.createElement('div')
    d.className = 'boot error'
    d.setAttribute('role', 'alert')
    d.textContent = `Parley could not start: ${errText(e)}`
    root.appendChild(d)
  })
