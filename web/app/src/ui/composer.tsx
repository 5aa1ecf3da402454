import { useEffect, useMemo, useRef, useState } from 'preact/hooks'
import { Icon } from './icons'
import type { Message } from '../core/api'
import { errText, P, sizeText, useEscape, useName } from './lib'
import { voiceInfo } from './media'

type FileOpts = { kind?: 'image' | 'video' | 'voice' | 'document'; caption?: string; durationMs?: number; name?: string; waveform?: number[] }

interface Props {
  chat: string
  replyTo: Message | null
  editing: Message | null
  onCancel: () => void
  onSend: (text: string) => void
  onFile: (f: File | Blob, o: FileOpts) => void
  /** a message the composer sent itself (a poll, a location): the core emits no event for one's own sends */
  onSent: (m: Message) => void
  onError: (e: string) => void
}

/** The composer: text (Enter sends, Shift+Enter breaks the line), attach, poll, location, voice note. */
export function Composer({ chat, replyTo, editing, onCancel, onSend, onFile, onSent, onError }: Props) {
  const [text, setTextState] = useState(() => draftOf(chat))
  // What is typed and not sent is kept per chat, on this device (drafts).
  const setText = (v: string) => {
    setTextState(v)
    saveDraft(chat, v)
  }
  useEffect(() => setTextState(draftOf(chat)), [chat])
  const [poll, setPoll] = useState(false)
  const [recording, setRecording] = useState<{ rec: MediaRecorder; started: number } | null>(null)
  const input = useRef<HTMLTextAreaElement>(null)
  const fileInput = useRef<HTMLInputElement>(null)
  const lastTyping = useRef(0)
  const replyName = useName(replyTo?.sender)

  useEffect(() => {
    if (editing) setText(editing.text)
    if (editing || replyTo) input.current?.focus()
  }, [editing, replyTo])

  const stopTyping = () => {
    if (lastTyping.current) {
      lastTyping.current = 0
      P()
        .typing(chat, false)
        .catch(() => {})
    }
  }
  useEffect(() => stopTyping, [chat])

  const submit = () => {
    const t = text.trim()
    if (!t) return
    setText('')
    stopTyping()
    onSend(t)
  }

  const onInput = (v: string) => {
    setText(v)
    const now = Date.now()
    if (v && now - lastTyping.current > 3000) {
      lastTyping.current = now
      P()
        .typing(chat, true)
        .catch(() => {})
    }
    if (!v) stopTyping()
  }

  // Picked files wait in a preview, with a caption box, until sent.
  const [pending, setPending] = useState<File[]>([])
  const pickFiles = (files: FileList | null) => {
    if (files?.length) setPending(Array.from(files))
    if (fileInput.current) fileInput.current.value = ''
  }
  const sendPending = (caption: string) => {
    // The caption goes with the first file, as it is shown under it.
    pending.forEach((f, i) => onFile(f, { kind: kindOf(f), caption: (i === 0 && caption) || undefined, name: f.name }))
    setPending([])
    setText('')
  }

  const sendLocation = () => {
    if (!navigator.geolocation) return onError('This browser cannot tell its location.')
    navigator.geolocation.getCurrentPosition(
      (pos) =>
        P()
          .sendLocation(chat, pos.coords.latitude, pos.coords.longitude)
          .then(onSent)
          .catch((e) => onError(errText(e))),
      (e) => onError(`Location unavailable: ${e.message}`),
      { timeout: 10000 },
    )
  }

  const toggleVoice = async () => {
    if (recording) {
      recording.rec.stop()
      return
    }
    try {
      const stream = await navigator.mediaDevices.getUserMedia({ audio: true })
      const rec = new MediaRecorder(stream)
      const chunks: Blob[] = []
      const started = Date.now()
      rec.ondataavailable = (e) => chunks.push(e.data)
      rec.onstop = async () => {
        stream.getTracks().forEach((t) => t.stop())
        setRecording(null)
        const blob = new Blob(chunks, { type: rec.mimeType || 'audio/webm' })
        // The duration and waveform come from the recording itself (Web
        // Audio); the clock is the fallback when it cannot be decoded.
        const info = await voiceInfo(blob)
        onFile(blob, { kind: 'voice', durationMs: info?.durationMs || Date.now() - started, waveform: info?.waveform, name: 'voice-note.webm' })
      }
      rec.start()
      setRecording({ rec, started })
    } catch (e) {
      onError(`Microphone unavailable: ${errText(e)}`)
    }
  }

  return (
    <div class="composer-wrap">
      {(replyTo || editing) && (
        <div class="composer-context" role="status">
          <div>
            <strong>{editing ? 'Editing message' : `Replying to ${replyName}`}</strong>
            <span class="quote-text">{(editing ?? replyTo)!.text || `[${(editing ?? replyTo)!.kind}]`}</span>
          </div>
          <button class="icon" aria-label={editing ? 'Cancel editing' : 'Cancel reply'} onClick={onCancel}>
            <Icon name="close" />
          </button>
        </div>
      )}
      {pending.length > 0 && <MediaPreview files={pending} caption={text.trim()} onSend={sendPending} onCancel={() => setPending([])} />}
      {poll && <PollForm chat={chat} onClose={() => setPoll(false)} onSent={onSent} onError={onError} />}
      <form
        class="composer"
        onSubmit={(e) => {
          e.preventDefault()
          submit()
        }}
      >
        <input ref={fileInput} type="file" multiple hidden aria-hidden="true" tabIndex={-1} onChange={(e) => pickFiles(e.currentTarget.files)} />
        <button type="button" class="icon" aria-label="Attach a file" title="Attach" onClick={() => fileInput.current?.click()}>
          <Icon name="attach" />
        </button>
        <button type="button" class="icon" aria-label="Create a poll" title="Poll" onClick={() => setPoll(!poll)}>
          <Icon name="poll" />
        </button>
        <button type="button" class="icon" aria-label="Send my location" title="Location" onClick={sendLocation}>
          <Icon name="location" />
        </button>
        <textarea
          ref={input}
          rows={1}
          aria-label="Message"
          placeholder="Message"
          value={text}
          onInput={(e) => onInput(e.currentTarget.value)}
          onBlur={stopTyping}
          onKeyDown={(e) => {
            if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
              e.preventDefault()
              submit()
            } else if (e.key === 'Escape' && (replyTo || editing)) {
              onCancel()
              setText('')
            }
          }}
        />
        {text.trim() ? (
          <button type="submit" class="icon send" aria-label={editing ? 'Save edit' : 'Send'}>
            <Icon name="send" />
          </button>
        ) : (
          <button
            type="button"
            class={'icon send' + (recording ? ' recording' : '')}
            aria-label={recording ? 'Stop and send voice note' : 'Record a voice note'}
            aria-pressed={!!recording}
            onClick={toggleVoice}
          >
            {recording ? <Icon name="stop" /> : <Icon name="mic" />}
          </button>
        )}
      </form>
    </div>
  )
}

const draftKey = (chat: string) => `parley-draft:${chat}`
function draftOf(chat: string): string {
  try {
    return localStorage.getItem(draftKey(chat)) ?? ''
  } catch {
    return ''
  }
}
function saveDraft(chat: string, text: string) {
  try {
    if (text.trim()) localStorage.setItem(draftKey(chat), text)
    else localStorage.removeItem(draftKey(chat))
  } catch {
    // storage full or denied: the draft lives only in the page
  }
}

function kindOf(f: File): 'image' | 'video' | 'voice' | 'document' {
  return f.type.startsWith('image/') ? 'image' : f.type.startsWith('video/') ? 'video' : f.type.startsWith('audio/') ? 'voice' : 'document'
}

/** Files picked for sending: a preview of each, a caption, Send or Cancel. */
function MediaPreview({ files, caption, onSend, onCancel }: { files: File[]; caption: string; onSend: (caption: string) => void; onCancel: () => void }) {
  const [c, setC] = useState(caption)
  const urls = useMemo(() => files.map((f) => (kindOf(f) === 'image' || kindOf(f) === 'video' ? URL.createObjectURL(f) : '')), [files])
  useEffect(() => () => urls.forEach((u) => u && URL.revokeObjectURL(u)), [urls])
  useEscape(onCancel)
  const title = files.length === 1 ? `Send ${files[0].name}` : `Send ${files.length} files`
  return (
    <div class="media-preview" role="dialog" aria-label={title}>
      <form
        onSubmit={(e) => {
          e.preventDefault()
          onSend(c.trim())
        }}
      >
      <h2>{title}</h2>
      <ul class="preview-list" aria-label="Files to send">
        {files.map((f, i) => (
          <li key={i}>
            {kindOf(f) === 'image' ? (
              <img src={urls[i]} alt={`Preview of ${f.name}`} />
            ) : kindOf(f) === 'video' ? (
              <video src={urls[i]} muted aria-label={`Preview of ${f.name}`} />
            ) : (
              <span class="doc-preview">
                <Icon name="doc" size={28} />
              </span>
            )}
            <span class="preview-name">
              {f.name} · {sizeText(f.size)}
            </span>
          </li>
        ))}
      </ul>
      <label>
        Caption
        <input autoFocus value={c} placeholder="Add a caption" onInput={(e) => setC(e.currentTarget.value)} />
      </label>
      <div class="row">
        <button type="submit" class="primary">
          Send
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
      </form>
    </div>
  )
}

function PollForm({ chat, onClose, onSent, onError }: { chat: string; onClose: () => void; onSent: (m: Message) => void; onError: (e: string) => void }) {
  const [q, setQ] = useState('')
  const [opts, setOpts] = useState(['', ''])
  const [multi, setMulti] = useState(false)
  useEscape(onClose)
  return (
    <form
      class="poll-form"
      aria-label="New poll"
      onSubmit={async (e) => {
        e.preventDefault()
        const options = opts.map((o) => o.trim()).filter(Boolean)
        try {
          const m = await P().createPoll(chat, { question: q.trim(), options, multi })
          onClose()
          onSent(m)
        } catch (err) {
          onError(errText(err))
        }
      }}
    >
      <label>
        Question
        <input required autoFocus value={q} onInput={(e) => setQ(e.currentTarget.value)} />
      </label>
      {opts.map((o, i) => (
        <label key={i}>
          Option {i + 1}
          <input
            value={o}
            required={i < 2}
            onInput={(e) => {
              const next = opts.slice()
              next[i] = e.currentTarget.value
              if (i === opts.length - 1 && next[i] && opts.length < 12) next.push('')
              setOpts(next)
            }}
          />
        </label>
      ))}
      <label class="check">
        <input type="checkbox" checked={multi} onChange={(e) => setMulti(e.currentTarget.checked)} /> Allow several answers
      </label>
      <div class="row">
        <button type="submit" class="primary">
          Send poll
        </button>
        <button type="button" onClick={onClose}>
          Cancel
        </button>
      </div>
    </form>
  )
}
