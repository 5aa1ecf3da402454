import { useEffect, useState } from 'preact/hooks'
import type { StatusPost, StatusSettings, StatusViewer, UserId } from '../core/api'
import { Icon } from './icons'
import { errText, go, listTime, P, timeOf, useEscape } from './lib'
import { Picker, usePeople } from './newchat'

// Status (docs/status.md): posts that vanish 24 hours after posting, shown
// to an audience the poster chooses, end-to-end encrypted under the
// poster's status key. The feed lists the people whose posts this user
// may see — unseen first, each with a ring — and this user's own posts
// with their views; opening a person plays their posts oldest first.

const BACKGROUNDS: [string, string][] = [
  ['#075e54', 'Green'],
  ['#1e3a8a', 'Blue'],
  ['#7c2d12', 'Brown'],
  ['#6b21a8', 'Purple'],
  ['#111827', 'Black'],
]
const FONTS: [string, string][] = [
  ['sans', 'Sans'],
  ['serif', 'Serif'],
  ['mono', 'Monospace'],
  ['script', 'Script'],
  ['bold', 'Bold'],
]

const fontFamily = (f?: string) => ({ serif: 'Georgia, serif', mono: 'ui-monospace, monospace', script: 'cursive' })[f ?? ''] ?? 'inherit'

/** One person's posts in the feed. */
interface Poster {
  user: UserId
  name: string
  posts: StatusPost[]
  unseen: number
  latest: number
  muted: boolean
}

function byPoster(feed: StatusPost[]): Poster[] {
  const m = new Map<UserId, Poster>()
  for (const p of feed) {
    if (p.mine) continue
    const e = m.get(p.poster) ?? { user: p.poster, name: p.posterName, posts: [], unseen: 0, latest: 0, muted: p.muted }
    e.posts.push(p)
    if (!p.seen) e.unseen++
    e.latest = Math.max(e.latest, p.createdAt)
    m.set(p.poster, e)
  }
  return [...m.values()].sort((a, b) => b.latest - a.latest)
}

/** The Status page: route #/status, or #/status/<user id> to view one person's posts ("me": one's own). */
export function Status({ who }: { who?: string }) {
  useEscape(() => go(who ? 'status' : ''))
  return who ? <Viewer who={who} /> : <Feed />
}

function Feed() {
  const [feed, setFeed] = useState<StatusPost[] | null>(null)
  const [err, setErr] = useState('')
  const [composing, setComposing] = useState(false)
  const [viewersOf, setViewersOf] = useState('')
  const load = () =>
    P()
      .statuses(true)
      .then(setFeed)
      .catch((e) => setErr(errText(e)))
  useEffect(() => {
    load()
    const t = setInterval(load, 15000)
    return () => clearInterval(t)
  }, [])
  const mine = (feed ?? []).filter((p) => p.mine)
  const people = byPoster(feed ?? [])
  const row = (p: Poster) => (
    <li key={p.user} class="chat-row">
      <button class="chat-open" aria-label={`${p.name}: ${p.posts.length} status update${p.posts.length === 1 ? '' : 's'}${p.unseen ? `, ${p.unseen} new` : ''}`} onClick={() => go('status', String(p.user))}>
        <span class={'avatar status-ring' + (p.unseen ? ' unseen' : '')} aria-hidden="true">
          {p.name.replace(/^[@+]/, '').slice(0, 1).toUpperCase()}
        </span>
        <span class="chat-main">
          <span class="chat-top">
            <span class="chat-title">{p.name}</span>
            <span class="chat-time">{listTime(p.latest)}</span>
          </span>
        </span>
      </button>
    </li>
  )
  const unseen = people.filter((p) => p.unseen && !p.muted)
  const seen = people.filter((p) => !p.unseen && !p.muted)
  const muted = people.filter((p) => p.muted)
  return (
    <section class="page status-page" aria-label="Status">
      <header class="bar">
        <button class="icon back" aria-label="Back" onClick={() => go()}>
          <Icon name="back" />
        </button>
        <h1 class="bar-title">Status</h1>
      </header>
      <div class="page-body">
        {err && (
          <p class="error" role="alert">
            {err}
          </p>
        )}
        <h2>My status</h2>
        {composing ? (
          <Composer
            onDone={() => {
              setComposing(false)
              load()
            }}
          />
        ) : (
          <button class="primary" onClick={() => setComposing(true)}>
            Add status
          </button>
        )}
        <ul class="chats" aria-label="My status updates">
          {mine.map((p) => (
            <li key={p.id} class="chat-row status-mine">
              <span class="chat-main">
                <span class="chat-top">
                  <span class="chat-title">{p.text || `[${p.kind}]`}</span>
                  <span class="chat-time">{listTime(p.createdAt)}</span>
                </span>
                <span class="chat-last">{`${p.views} view${p.views === 1 ? '' : 's'}`}</span>
              </span>
              <button onClick={() => setViewersOf(viewersOf === p.id ? '' : p.id)} aria-expanded={viewersOf === p.id}>
                Viewers
              </button>
              <button
                class="danger"
                onClick={() =>
                  P()
                    .deleteStatus(p.id)
                    .then(load)
                    .catch((e) => setErr(errText(e)))
                }
              >
                Delete
              </button>
              {viewersOf === p.id && <Viewers id={p.id} />}
            </li>
          ))}
        </ul>
        <Privacy />
        {feed && people.length === 0 && <p class="muted">No status updates from your contacts.</p>}
        {unseen.length > 0 && (
          <>
            <h2>Recent updates</h2>
            <ul class="chats" aria-label="Recent updates">
              {unseen.map(row)}
            </ul>
          </>
        )}
        {seen.length > 0 && (
          <>
            <h2>Viewed updates</h2>
            <ul class="chats" aria-label="Viewed updates">
              {seen.map(row)}
            </ul>
          </>
        )}
        {muted.length > 0 && (
          <details>
            <summary>Muted updates</summary>
            <ul class="chats" aria-label="Muted updates">
              {muted.map(row)}
            </ul>
          </details>
        )}
      </div>
    </section>
  )
}

/** The default audience of new posts and whether this user sends view receipts. */
function Privacy() {
  const [set, setSet] = useState<StatusSettings | null>(null)
  const [err, setErr] = useState('')
  useEffect(() => {
    P()
      .statusSettings()
      .then(setSet)
      .catch((e) => setErr(errText(e)))
  }, [])
  const save = (next: Partial<StatusSettings>) =>
    P()
      .setStatusSettings(next)
      .then(setSet)
      .catch((e) => setErr(errText(e)))
  if (!set) return err ? <p class="error">{err}</p> : null
  return (
    <details>
      <summary>Status privacy</summary>
      <p>
        {`Default audience of new updates: ${set.audience === 'contacts' ? 'my contacts' : set.audience}`}
        {set.audience !== 'contacts' && (
          <button type="button" onClick={() => save({ audience: 'contacts' })}>
            Share with all my contacts by default
          </button>
        )}
      </p>
      <label class="check">
        <input type="checkbox" checked={set.receipts} onChange={(e) => save({ receipts: e.currentTarget.checked })} />
        Send view receipts (off: people do not see that you viewed their status, and you do not see who viewed yours)
      </label>
      {err && (
        <p class="error" role="alert">
          {err}
        </p>
      )}
    </details>
  )
}

function Viewers({ id }: { id: string }) {
  const [vs, setVs] = useState<StatusViewer[] | null>(null)
  const [err, setErr] = useState('')
  useEffect(() => {
    P()
      .statusViewers(id)
      .then(setVs)
      .catch((e) => setErr(errText(e)))
  }, [id])
  if (err) return <p class="error">{err}</p>
  if (!vs) return <p class="muted">Loading viewers…</p>
  if (vs.length === 0) return <p class="muted">No views yet.</p>
  return (
    <ul aria-label="Viewed by" class="viewers">
      {vs.map((v) => (
        <li key={v.user}>
          {v.name} <span class="muted">{timeOf(v.at)}</span>
        </li>
      ))}
    </ul>
  )
}

function Composer({ onDone }: { onDone: () => void }) {
  const [text, setText] = useState('')
  const [bg, setBg] = useState(BACKGROUNDS[0][0])
  const [font, setFont] = useState('sans')
  const [mode, setMode] = useState('default')
  const [picked, setPicked] = useState<Set<UserId>>(new Set())
  const people = usePeople()
  const [busy, setBusy] = useState(false)
  const [err, setErr] = useState('')
  const audience = () => (mode === 'default' ? undefined : mode === 'contacts' ? 'contacts' : `${mode}:${[...picked].join(',')}`)
  return (
    <form
      aria-label="New status"
      onSubmit={async (e) => {
        e.preventDefault()
        setBusy(true)
        setErr('')
        try {
          await P().postStatus({ text, background: bg, font, audience: audience() })
          onDone()
        } catch (e) {
          setErr(errText(e))
        } finally {
          setBusy(false)
        }
      }}
    >
      <div class="status-card" style={{ background: bg, fontFamily: fontFamily(font), fontWeight: font === 'bold' ? 700 : undefined }} aria-hidden="true">
        {text || 'Type a status'}
      </div>
      <label>
        Status text
        <textarea required maxLength={700} rows={3} value={text} onInput={(e) => setText(e.currentTarget.value)} />
      </label>
      <label>
        Background
        <select value={bg} onChange={(e) => setBg(e.currentTarget.value)}>
          {BACKGROUNDS.map(([v, l]) => (
            <option key={v} value={v}>
              {l}
            </option>
          ))}
        </select>
      </label>
      <label>
        Font
        <select value={font} onChange={(e) => setFont(e.currentTarget.value)}>
          {FONTS.map(([v, l]) => (
            <option key={v} value={v}>
              {l}
            </option>
          ))}
        </select>
      </label>
      <label>
        Who can see it
        <select value={mode} onChange={(e) => setMode(e.currentTarget.value)}>
          <option value="default">My default (Settings)</option>
          <option value="contacts">My contacts</option>
          <option value="except">My contacts except…</option>
          <option value="only">Only share with…</option>
        </select>
      </label>
      {(mode === 'except' || mode === 'only') && (
        <fieldset>
          <legend>{mode === 'only' ? 'Share only with' : 'Hide from'}</legend>
          <Picker
            people={people}
            selected={picked}
            onToggle={(p) =>
              setPicked((old) => {
                const next = new Set(old)
                if (!next.delete(p.user)) next.add(p.user)
                return next
              })
            }
          />
        </fieldset>
      )}
      <p class="muted">Your status is end-to-end encrypted and disappears after 24 hours. Changing who can see new posts does not change posts already shared.</p>
      <button class="primary" type="submit" disabled={busy}>
        Post status
      </button>
      <button type="button" onClick={onDone}>
        Cancel
      </button>
      {err && (
        <p class="error" role="alert">
          {err}
        </p>
      )}
    </form>
  )
}

/** Plays one person's posts, oldest first; viewing records the view (unless view receipts are off). */
function Viewer({ who }: { who: string }) {
  const [posts, setPosts] = useState<StatusPost[] | null>(null)
  const [i, setI] = useState(0)
  const [err, setErr] = useState('')
  const [note, setNote] = useState('')
  const [reply, setReply] = useState('')
  const [media, setMedia] = useState('')
  useEffect(() => {
    P()
      .viewStatus(who)
      .then((ps) => {
        setPosts(ps)
        const first = ps.findIndex((p) => !p.seen)
        setI(first < 0 ? 0 : first)
      })
      .catch((e) => setErr(errText(e)))
  }, [who])
  const p = posts?.[i]
  useEffect(() => {
    setMedia('')
    if (!p || !p.mediaType || !p.mediaType.startsWith('image/')) return
    P()
      .statusMedia(p.id)
      .then((m) => setMedia(`data:${m.type};base64,${m.data}`))
      .catch((e) => setErr(errText(e)))
  }, [p?.id])
  const name = p?.posterName ?? ''
  return (
    <section class="page status-view" aria-label={name ? `Status of ${name}` : 'Status'}>
      <header class="bar">
        <button class="icon back" aria-label="Back to status" onClick={() => go('status')}>
          <Icon name="back" />
        </button>
        <h1 class="bar-title">{name || 'Status'}</h1>
      </header>
      <div class="page-body">
        {err && (
          <p class="error" role="alert">
            {err}
          </p>
        )}
        {posts && posts.length === 0 && <p class="muted">No status updates.</p>}
        {p && (
          <>
            <p class="muted">{`${i + 1} of ${posts!.length} · ${listTime(p.createdAt)}`}</p>
            <article class="status-card" aria-label="Status update" style={p.kind === 'text' ? { background: p.background || '#075e54', fontFamily: fontFamily(p.font), fontWeight: p.font === 'bold' ? 700 : undefined } : undefined}>
              {p.error ? <span>This update cannot be shown yet ({p.error}).</span> : null}
              {media && <img src={media} alt={p.text || 'Status photo'} />}
              {p.kind !== '' && p.kind !== 'text' && !media && <span>{`[${p.kind}]`}</span>}
              {p.text && <span class="status-text">{p.text}</span>}
            </article>
            <div class="row">
              <button disabled={i === 0} onClick={() => setI(i - 1)}>
                Previous
              </button>
              <button disabled={i >= posts!.length - 1} onClick={() => setI(i + 1)}>
                Next
              </button>
              {!p.mine && (
                <button
                  onClick={() =>
                    P()
                      .muteStatus(String(p.poster), !p.muted)
                      .then(() => {
                        setNote(p.muted ? `${name}'s updates are shown again.` : `${name}'s updates are muted.`)
                        setPosts(posts!.map((q) => ({ ...q, muted: !p.muted })))
                      })
                      .catch((e) => setErr(errText(e)))
                  }
                >
                  {p.muted ? `Unmute ${name}` : `Mute ${name}`}
                </button>
              )}
            </div>
            {!p.mine && !p.error && (
              <form
                onSubmit={(e) => {
                  e.preventDefault()
                  P()
                    .replyStatus(p.id, reply.trim())
                    .then((m) => {
                      setReply('')
                      go('chat', m.chat)
                    })
                    .catch((e) => setErr(errText(e)))
                }}
              >
                <label>
                  Reply privately
                  <input required value={reply} onInput={(e) => setReply(e.currentTarget.value)} />
                </label>
                <button class="primary" type="submit">
                  Send reply
                </button>
              </form>
            )}
          </>
        )}
        {note && <p role="status">{note}</p>}
      </div>
    </section>
  )
}
