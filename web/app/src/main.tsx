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
loadCore()
  .then((p) => {
    setApi(p)
    startEvents()
    render(<App />, root)
    setTimeout(registerWorker, 0)
  })
  .catch((e) => {
    root.innerHTML = ''
    const d = document.createElement('div')
    d.className = 'boot error'
    d.setAttribute('role', 'alert')
    d.textContent = `Parley could not start: ${errText(e)}`
    root.appendChild(d)
  })
