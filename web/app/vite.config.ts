// Vite builds the browser client into web/dist, which the Go binary embeds
// (package web). Two things are special here:
//
//   - src/sw.ts is built as its own entry at the fixed URL /sw.js (a service
//     worker's scope is its path), and the list of files to precache — every
//     emitted asset plus index.html, the manifest and the wasm — is written into
//     it, together with a build version that names its cache.
//   - parley.wasm and wasm_exec.js come from the Go toolchain
//     (scripts/build-web.sh puts them in public/). They keep their names, so the
//     app asks for them with ?v=<content hash>: a new build is a new URL, which is
//     what lets the server mark them immutable and the service worker cache them.
import { defineConfig, type Plugin } from 'vite'
import { createHash } from 'node:crypto'
import { existsSync, readFileSync, statSync, writeFileSync, mkdirSync } from 'node:fs'
import { resolve } from 'node:path'

const devServer = process.env.PARLEY_DEV_SERVER || 'http://127.0.0.1:8080'
const publicDir = resolve(import.meta.dirname, 'public')
const outDir = resolve(import.meta.dirname, '../dist')

function hashOf(file: string): string {
  if (!existsSync(file)) return 'missing'
  return createHash('sha256').update(readFileSync(file)).digest('hex').slice(0, 12)
}

function parleyAssets(): Plugin {
  const wasmV = hashOf(resolve(publicDir, 'parley.wasm'))
  const execV = hashOf(resolve(publicDir, 'wasm_exec.js'))
  const wasmFile = resolve(publicDir, 'parley.wasm')
  const wasmSize = existsSync(wasmFile) ? statSync(wasmFile).size : 0
  return {
    name: 'parley-assets',
    config() {
      return {
        define: {
          __WASM_URL__: JSON.stringify(`/parley.wasm?v=${wasmV}`),
          __WASM_EXEC_URL__: JSON.stringify(`/wasm_exec.js?v=${execV}`),
          __WASM_SIZE__: JSON.stringify(wasmSize),
        },
      }
    },
    generateBundle(_opts, bundle) {
      const files = Object.keys(bundle).filter((f) => f !== 'sw.js' && !f.endsWith('.map'))
      const precache = [
        '/',
        ...files.filter((f) => f !== 'index.html').map((f) => '/' + f),
        '/manifest.webmanifest',
        '/icon-192.png',
        '/icon-512.png',
        '/icon.svg',
        `/parley.wasm?v=${wasmV}`,
        `/wasm_exec.js?v=${execV}`,
      ]
      const version = createHash('sha256').update(JSON.stringify(precache)).digest('hex').slice(0, 12)
      const sw = bundle['sw.js']
      if (sw && sw.type === 'chunk') {
        sw.code = `self.__PARLEY_PRECACHE=${JSON.stringify(precache)};self.__PARLEY_VERSION=${JSON.stringify(version)};\n` + sw.code
      }
    },
    closeBundle() {
      // The Go package embeds web/dist with //go:embed all:dist, which needs the
      // committed placeholder to exist even though Vite empties the directory.
      mkdirSync(outDir, { recursive: true })
      writeFileSync(resolve(outDir, '.gitkeep'), '')
    },
  }
}

export default defineConfig({
  plugins: [parleyAssets()],
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir,
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    rollupOptions: {
      input: {
        main: resolve(import.meta.dirname, 'index.html'),
        sw: resolve(import.meta.dirname, 'src/sw.ts'),
      },
      output: {
        entryFileNames: (chunk) => (chunk.name === 'sw' ? 'sw.js' : 'assets/[name]-[hash].js'),
      },
    },
  },
  server: {
    // `npm run dev` (and `vite preview`) proxy the API to a running
    // `parley serve` ($PARLEY_DEV_SERVER, default http://127.0.0.1:8080).
    proxy: {
      '/v1': { target: devServer, ws: true },
      '/media': devServer,
      '/push': devServer,
      '/healthz': devServer,
    },
  },
})
