// Previews of files before sending, made in the browser: the core has no
// image decoders in its wasm build (they would add to the download), and no
// client can decode video frames in Go, but the browser decodes both.

/** What SendMediaOptions carries from a preview. */
export interface Preview {
  /** "data:image/jpeg;base64,…", at most 64 KiB */
  thumbnail?: string
  width?: number
  height?: number
  durationMs?: number
}

const THUMB_MAX = 320 // pixels on the longer side, as the Go core's thumbnails
const THUMB_BYTES = 64 << 10

function scaled(w: number, h: number): [number, number] {
  if (w <= THUMB_MAX && h <= THUMB_MAX) return [w, h]
  return w >= h ? [THUMB_MAX, Math.max(1, Math.round((h * THUMB_MAX) / w))] : [Math.max(1, Math.round((w * THUMB_MAX) / h)), THUMB_MAX]
}

/** A JPEG data: URL of src drawn at most THUMB_MAX a side on white, within THUMB_BYTES. */
function jpegOf(src: CanvasImageSource, w: number, h: number): string | undefined {
  const [tw, th] = scaled(w, h)
  const c = document.createElement('canvas')
  c.width = tw
  c.height = th
  const g = c.getContext('2d')
  if (!g) return undefined
  g.fillStyle = '#fff' // transparent → white, as the Go core does
  g.fillRect(0, 0, tw, th)
  g.drawImage(src, 0, 0, tw, th)
  for (const q of [0.7, 0.5, 0.3]) {
    const url = c.toDataURL('image/jpeg', q)
    // base64 is 4/3 of the bytes
    if (((url.length - 'data:image/jpeg;base64,'.length) * 3) / 4 <= THUMB_BYTES) return url
  }
  return undefined
}

async function imagePreview(file: Blob): Promise<Preview> {
  const bmp = await createImageBitmap(file)
  try {
    return { thumbnail: jpegOf(bmp, bmp.width, bmp.height), width: bmp.width, height: bmp.height }
  } finally {
    bmp.close()
  }
}

/** A video's first frame (at 0.1 s, or its middle when shorter), size and duration. */
function videoPreview(file: Blob): Promise<Preview> {
  return new Promise((resolve, reject) => {
    const url = URL.createObjectURL(file)
    const v = document.createElement('video')
    v.muted = true
    v.preload = 'auto'
    v.playsInline = true
    const done = (p: Preview | Error) => {
      clearTimeout(timer)
      v.removeAttribute('src')
      v.load()
      URL.revokeObjectURL(url)
      if (p instanceof Error) reject(p)
      else resolve(p)
    }
    const timer = setTimeout(() => done(new Error('the video could not be read in time')), 15000)
    v.onerror = () => done(new Error('this browser cannot play the video'))
    // WebM from MediaRecorder has no duration in its header: the browser
    // reports Infinity until asked to seek past the end, which makes it
    // find the real one. Then the frame at 0.1 s (or the middle).
    let probing = false
    const frame = () => {
      const d = Number.isFinite(v.duration) ? v.duration : 0
      v.currentTime = d > 0 ? Math.min(0.1, d / 2) : 0
    }
    v.onloadeddata = () => {
      if (Number.isFinite(v.duration)) return frame()
      probing = true
      v.currentTime = 1e101
    }
    v.onseeked = () => {
      if (probing) {
        probing = false
        return frame()
      }
      const d = Number.isFinite(v.duration) ? v.duration : 0
      done({
        thumbnail: v.videoWidth ? jpegOf(v, v.videoWidth, v.videoHeight) : undefined,
        width: v.videoWidth || undefined,
        height: v.videoHeight || undefined,
        durationMs: d > 0 ? Math.round(d * 1000) : undefined,
      })
    }
    v.src = url
  })
}

/** The preview of an image or a video; {} for other files or when the browser cannot decode it. */
export async function previewOf(file: Blob, kind: string): Promise<Preview> {
  try {
    if (kind === 'image') return await imagePreview(file)
    if (kind === 'video') return await videoPreview(file)
  } catch (e) {
    console.warn('no preview', e)
  }
  return {}
}

/** "0:12", "1:05:09" */
export function durationText(ms: number): string {
  const s = Math.round(ms / 1000)
  const h = Math.floor(s / 3600)
  const m = Math.floor((s % 3600) / 60)
  const ss = String(s % 60).padStart(2, '0')
  return h ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`
}

/** A chat list's last message: "📷 Photo", "🎤 Voice message", "📄 report.pdf" instead of "[image] …". */
export function lastTextLabel(t: string): string {
  const m = /^\[(image|video|voice|document|location|contact)\]\s*(.*)$/s.exec(t)
  if (!m) return t
  const rest = m[2]
  switch (m[1]) {
    case 'image':
      return `📷 ${rest || 'Photo'}`
    case 'video':
      return `🎥 ${rest || 'Video'}`
    case 'voice':
      return `🎤 ${rest || 'Voice message'}`
    case 'document':
      return `📄 ${rest || 'Document'}`
    case 'location':
      return `📍 ${rest || 'Location'}`
    case 'contact':
      return `👤 ${rest || 'Contact'}`
  }
  return t
}

/** How many levels a voice note's waveform has (the core's attachment.WaveformBars). */
export const WAVEFORM_BARS = 64

/**
 * A recorded voice note's duration and waveform, decoded with Web Audio (the
 * core in the page cannot decode Opus): WAVEFORM_BARS peak levels 0–255,
 * scaled so the loudest bar is 255. Null when the browser cannot decode it.
 */
export async function voiceInfo(blob: Blob): Promise<{ durationMs: number; waveform: number[] } | null> {
  const Ctx = window.OfflineAudioContext || (window as any).webkitOfflineAudioContext
  if (!Ctx) return null
  try {
    // decodeAudioData resamples to the context's rate; 8 kHz is plenty for levels.
    const ctx = new Ctx(1, 1, 8000)
    const buf = await ctx.decodeAudioData(await blob.arrayBuffer())
    const data = buf.getChannelData(0)
    const peaks = new Array<number>(WAVEFORM_BARS).fill(0)
    for (let i = 0; i < data.length; i++) {
      const bar = Math.floor((i * WAVEFORM_BARS) / data.length)
      const v = Math.abs(data[i])
      if (v > peaks[bar]) peaks[bar] = v
    }
    const top = Math.max(...peaks)
    const waveform = peaks.map((p) => (top > 0 ? Math.round((p / top) * 255) : 0))
    return { durationMs: Math.round(buf.duration * 1000), waveform }
  } catch {
    return null
  }
}
