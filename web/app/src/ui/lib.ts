// Small shared helpers of the UI: the API handle, error text, names, times,
// routing and theme.
import { useEffect, useState } from 'preact/hooks'
import { isParleyError, type Parley, type ParleyEvent, type UserId } from '../core/api'

let api: Parley
export function setApi(p: Parley) {
  api = p
}
/** The client core; set before the first render. */
export function P(): Parley {
  return api
}

export function errText(e: unknown): string {
  if (isParleyError(e)) return e.message || `${e.code}: ${e.reason}`
  if (e instanceof Error) return e.message
  return String(e)
}

// ---- events: one subscription to the core, fanned out to components ----
type Listener = (ev: ParleyEvent) => void
const listeners = new Set<Listener>()
export function startEvents() {
  api.onEvent((ev) => {
    for (const l of [...listeners]) {
      try {
        l(ev)
      } catch (err) {
        console.error(err)
      }
    }
  })
}
export function useEvents(fn: Listener, deps: unknown[]) {
  useEffect(() => {
    listeners.add(fn)
    return () => {
      listeners.delete(fn)
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, deps)
}

// ---- names ----
const names = new Map<UserId, Promise<string>>()
let self: UserId = 0
/** Names this account's own user "You". */
export function setSelf(u: UserId) {
  self = u
}
export function nameOf(u: UserId): Promise<string> {
  if (u && u === self) return Promise.resolve('You')
  let p = names.get(u)
  if (!p) {
    p = api.who(u).catch(() => `u${u}`)
    names.set(u, p)
  }
  return p
}
/** Forget how a user is named (their name changed), so the next nameOf asks again. */
export function forgetName(u: UserId) {
  names.delete(u)
}
export function useName(u: UserId | undefined): string {
  const [n, setN] = useState('')
  useEffect(() => {
    if (!u) return
    let live = true
    nameOf(u).then((x) => live && setN(x))
    return () => {
      live = false
    }
  }, [u])
  return n
}

// ---- times ----
export function timeOf(ms: number): string {
  if (!ms) return ''
  return new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })
}
export function dayKey(ms: number): string {
  const d = new Date(ms)
  return `${d.getFullYear()}-${d.getMonth()}-${d.getDate()}`
}
export function dayLabel(ms: number): string {
  const d = new Date(ms)
  const today = new Date()
  const yesterday = new Date(Date.now() - 86400000)
  if (dayKey(ms) === dayKey(today.getTime())) return 'Today'
  if (dayKey(ms) === dayKey(yesterday.getTime())) return 'Yesterday'
  return d.toLocaleDateString([], { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' })
}
/** Chat list time: the time today, else the weekday within a week, else the date. */
export function listTime(ms: number): string {
  if (!ms) return ''
  if (dayKey(ms) === dayKey(Date.now())) return timeOf(ms)
  if (Date.now() - ms < 6 * 86400000) return new Date(ms).toLocaleDateString([], { weekday: 'short' })
  return new Date(ms).toLocaleDateString()
}

export function sizeText(n: number): string {
  if (n < 1024) return `${n} B`
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`
  return `${(n / 1024 / 1024).toFixed(1)} MB`
}

// ---- routing (hash based: the server serves one page) ----
export function useRoute(): string[] {
  const parse = () =>
    location.hash
      .replace(/^#\/?/, '')
      .split('/')
      .filter(Boolean)
      .map(decodeURIComponent)
  const [r, setR] = useState(parse)
  useEffect(() => {
    const on = () => setR(parse())
    addEventListener('hashchange', on)
    return () => removeEventListener('hashchange', on)
  }, [])
  return r
}
export function go(...parts: string[]) {
  location.hash = '#/' + parts.map(encodeURIComponent).join('/')
}

// ---- theme ----
export type Theme = 'system' | 'light' | 'dark'
export function getTheme(): Theme {
  return (localStorage.getItem('parley.theme') as Theme) || 'system'
}
export function applyTheme(t: Theme = getTheme()) {
  localStorage.setItem('parley.theme', t)
  const dark = t === 'dark' || (t === 'system' && matchMedia('(prefers-color-scheme: dark)').matches)
  document.documentElement.dataset.theme = dark ? 'dark' : 'light'
}

/** Escape closes: call onClose when Escape is pressed while mounted. */
export function useEscape(onClose: () => void) {
  useEffect(() => {
    const on = (e: KeyboardEvent) => {
      if (e.key === 'Escape') onClose()
    }
    addEventListener('keydown', on)
    return () => removeEventListener('keydown', on)
  }, [onClose])
}

/** Whether a chat is muted now: for good, or until a later time. */
export function isMuted(c: { muted: boolean; mutedUntil?: number }, now = Date.now()): boolean {
  return c.muted || (c.mutedUntil ?? 0) > now
}

/** The mute durations a chat's menu offers (-1: always). */
export const MUTE_FOR: [number, string][] = [
  [8 * 3600000, 'For 8 hours'],
  [7 * 86400000, 'For 1 week'],
  [-1, 'Always'],
]
