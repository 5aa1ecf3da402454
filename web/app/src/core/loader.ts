// Loads the Go client core (parley.wasm) with Go's wasm_exec.js glue and waits
// until it has installed globalThis.parley.
import type { Parley } from './api'

declare global {
  // Installed by wasm_exec.js.
  // eslint-disable-next-line no-var
  var Go: { new (): { importObject: WebAssembly.Imports; run(i: WebAssembly.Instance): Promise<void> } } | undefined
}

function loadScript(src: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = document.createElement('script')
    s.src = src
    s.onload = () => resolve()
    s.onerror = () => reject(new Error(`could not load ${src}`))
    document.head.appendChild(s)
  })
}

export interface LoadTimings {
  fetchAndCompileMs: number
  readyMs: number
}

export let loadTimings: LoadTimings | undefined

/** Start the wasm client core once; resolves with globalThis.parley. */
let loading: Promise<Parley> | undefined
export function loadCore(): Promise<Parley> {
  loading ??= (async () => {
    const t0 = performance.now()
    if (!globalThis.Go) await loadScript(__WASM_EXEC_URL__)
    const go = new globalThis.Go!()
    const ready = new Promise<void>((resolve) => {
      globalThis.parleyReady = resolve
    })
    let instance: WebAssembly.Instance
    try {
      ;({ instance } = await WebAssembly.instantiateStreaming(fetch(__WASM_URL__), go.importObject))
    } catch {
      // A server or proxy that does not say application/wasm: compile from bytes.
      const bytes = await (await fetch(__WASM_URL__)).arrayBuffer()
      ;({ instance } = await WebAssembly.instantiate(bytes, go.importObject))
    }
    const t1 = performance.now()
    go.run(instance).catch((e) => console.error('parley core stopped', e))
    await ready
    if (!globalThis.parley) throw new Error('the client core did not start')
    loadTimings = { fetchAndCompileMs: t1 - t0, readyMs: performance.now() - t0 }
    ;(globalThis as unknown as { parleyLoad: LoadTimings }).parleyLoad = loadTimings
    return globalThis.parley
  })()
  return loading
}
