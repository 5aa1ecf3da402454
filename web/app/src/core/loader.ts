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

/** Bytes of the core received so far (decoded) and its whole size (0 when unknown). */
export type Progress = (loaded: number, total: number) => void

/**
 * The core's response with its body counted as it streams in, so the boot
 * screen can show progress while WebAssembly.instantiateStreaming compiles
 * the module as it arrives (compiling overlaps the download).
 */
function counted(res: Response, onProgress: Progress): Response {
  if (!res.body) return res
  const total = __WASM_SIZE__
  let loaded = 0
  onProgress(0, total)
  const body = res.body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, ctl) {
        loaded += chunk.byteLength
        onProgress(loaded, total)
        ctl.enqueue(chunk)
      },
    }),
  )
  return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers })
}

/** Start the wasm client core once; resolves with globalThis.parley. */
let loading: Promise<Parley> | undefined
export function loadCore(onProgress: Progress = () => {}): Promise<Parley> {
  loading ??= (async () => {
    const t0 = performance.now()
    if (!globalThis.Go) await loadScript(__WASM_EXEC_URL__)
    const go = new globalThis.Go!()
    const ready = new Promise<void>((resolve) => {
      globalThis.parleyReady = resolve
    })
    let instance: WebAssembly.Instance
    const res = await fetch(__WASM_URL__)
    if (!res.ok) throw new Error(`could not load the client core: HTTP ${res.status}`)
    if ((res.headers.get('content-type') ?? '').startsWith('application/wasm')) {
      ;({ instance } = await WebAssembly.instantiateStreaming(counted(res, onProgress), go.importObject))
    } else {
      // A server or proxy that does not say application/wasm: compile from
      // bytes (the response is read once either way).
      const bytes = await counted(res, onProgress).arrayBuffer()
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
