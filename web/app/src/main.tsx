import { render } from 'preact'
import './styles.css'
import { loadCore } from './core/loader'
import { App } from './ui/app'
import { applyTheme, errText, setApi, startEvents } from './ui/lib'

applyTheme()
matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => applyTheme())

if ('serviceWorker' in navigator && location.protocol !== 'file:') {
  navigator.serviceWorker.register('/sw.js').catch((e) => console.warn('service worker not registered', e))
}

const root = document.getElementById('app')!
loadCore()
  .then((p) => {
    setApi(p)
    startEvents()
    render(<App />, root)
  })
  .catch((e) => {
    root.innerHTML = ''
    const d = document.createElement('div')
    d.className = 'boot error'
    d.setAttribute('role', 'alert')
    d.textContent = `Parley could not start: ${errText(e)}`
    root.appendChild(d)
  })
