// Writes the precompressed variants of the built browser client that package
// web serves: <file>.br (Brotli, quality 11, 16 MiB window) and <file>.gz
// (gzip -9), for every compressible file in the directory given (web/dist),
// keeping a variant only when it is smaller than the file.
//
// Brotli at quality 11 takes about a minute of CPU for the 20 MB client core,
// so results are kept in a cache keyed by the SHA-256 of the contents
// (node_modules/.cache/parley-compress under web/app, never committed): a
// rebuild that did not change the core does not compress it again.
//
//   node scripts/compress-web.mjs web/dist
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { brotliCompressSync, constants, gzipSync } from 'node:zlib'

const dir = process.argv[2]
if (!dir) {
  console.error('usage: node scripts/compress-web.mjs <dist directory>')
  process.exit(2)
}
const cache = resolve(import.meta.dirname, '../web/app/node_modules/.cache/parley-compress')
mkdirSync(cache, { recursive: true })

const compressible = /\.(js|mjs|css|html|wasm|svg|webmanifest|json)$/

function* files(d) {
  for (const e of readdirSync(d, { withFileTypes: true })) {
    const p = join(d, e.name)
    if (e.isDirectory()) yield* files(p)
    else if (compressible.test(e.name)) yield p
  }
}

const encoders = {
  br: (b) =>
    brotliCompressSync(b, {
      params: {
        [constants.BROTLI_PARAM_QUALITY]: 11,
        [constants.BROTLI_PARAM_LGWIN]: 24,
        [constants.BROTLI_PARAM_SIZE_HINT]: b.length,
        [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_GENERIC,
      },
    }),
  gz: (b) => gzipSync(b, { level: 9 }),
}

const settings = { br: 'q11w24', gz: 'l9' }

let n = 0
for (const f of files(dir)) {
  if (statSync(f).size <= 1024) continue
  const raw = readFileSync(f)
  const sum = createHash('sha256').update(raw).digest('hex')
  for (const [ext, enc] of Object.entries(encoders)) {
    // The key names the settings too: changing them must not reuse old output.
    const cached = join(cache, `${sum}.${ext}-${settings[ext]}`)
    let out
    if (existsSync(cached)) out = readFileSync(cached)
    else {
      out = enc(raw)
      writeFileSync(cached + '.tmp', out)
      renameSync(cached + '.tmp', cached)
    }
    const target = `${f}.${ext}`
    if (out.length < raw.length) {
      writeFileSync(target, out)
      n++
    } else if (existsSync(target)) unlinkSync(target)
  }
}
console.error(`compress-web: ${n} variants written`)
