import { useEffect, useState } from 'preact/hooks'
import { Icon } from './icons'
import type { StatusPost, StatusViewer } from '../core/api'
import { errText, go, listTime, P } from './lib'

const FONTS = ['sans', 'serif', 'mono', 'script', 'bold']
const FONT_CSS: Record<string, string> = {
  sans: 'system-ui, sans-serif',
  serif: 'Georgia, serif',
  mono: 'ui-monospace, monospace',
  script: 'cursive',
  bold: 'system-ui, sans-serif',
}

/** One status as a card: a text status on its background in its font, a media status by its thumbnail. */
function Card({ p }: { p: StatusPost }) {
  if (p.error) return <p class="status-card muted">This status cannot be read on this device yet ({p.error}).</p>
  if (p.kind === 'text') {
    return (
      <p
        class="status-card status-text"
        style={{
          background: p.background || '#075e54',
          color: '#fff',
          fontFamily: FONT_CSS[p.font || 'sans'],
          fontWeight: p.font === 'bold' ? 700 : 400,
        }}
      >
        {p.text}
      </p>
    )
  }
  return (
    <figure class="status-card">
      {p.thumb && <img src={p.thumb} alt={`${p.kind} status`} />}
      <figcaption>
        [{p.kind}] {p.text}
      </figcaption>
    </figure>
  )
}

/** Status: 24-hour stories (docs/status.md). Post a text status, watch others', see who viewed yours. */
export function Status() {
  const [posts, setPosts] = useState<StatusPost[] | null>(null)
  const [err, setErr] = useState('')
  const [text, setText] = useState('')
  const [background, setBackground] = useState('#075e54')
  const [font, setFont] = useState('sans')
  const [audience, setAudience] = useState('')
  const [watching, setWatching] = useState<{ poster: string; posts: StatusPost[] } | null>(null)
  const [viewers, setViewers] = useState<{ id: string; list: StatusViewer[] } | null>(null)
  const [reply, setReply] = useState('')
  const fail = (e: unknown) => setErr(errText(e))
  const load = () => P().statuses(true).then(setPosts).catch(fail)
  useEffect(() => {
    load()
  }, [])

  const post = async (e: Event) => {
    e.preventDefault()
    setErr('')
    try {
      await P().postStatus({ text, background, font, audience: audience.trim() || undefined })
      setText('')
      load()
    } catch (e) {
      fail(e)
    }
  }
  const watch = async (poster: number, name: string) => {
    try {
      setWatching({ poster: name, posts: await P().viewStatus(String(poster)) })
      load()
    } catch (e) {
      fail(e)
    }
  }
  const act = (f: () => Promise<unknown>) => async () => {
    try {
      await f()
      load()
    } catch (e) {
      fail(e)
    }
  }

  const mine = (posts ?? []).filter((p) => p.mine)
  const others = (posts ?? []).filter((p) => !p.mine)
  const byPoster = new Map<number, StatusPost[]>()
  for (const p of others) byPoster.set(p.poster, [...(byPoster.get(p.poster) ?? []), p])
  const people = [...byPoster.entries()]

  return (
    <section class="status" aria-label="Status">
      <header class="bar">
        <button class="icon back" aria-label="Back to chats" onClick={() => go()}>
          <Icon name="back" />
        </button>
        <h2 class="bar-title">Status</h2>
      </header>
      {err && (
        <p class="error" role="alert">
          {err}
        </p>
      )}
      <form class="pad status-compose" aria-label="New status" onSubmit={post}>
        <textarea
          aria-label="Status text"
          maxLength={700}
          placeholder="Type a status (visible for 24 hours)"
          value={text}
          onInput={(e) => setText((e.target as HTMLTextAreaElement).value)}
        />
        <label>
          Background <input type="color" value={background} onInput={(e) => setBackground((e.target as HTMLInputElement).value)} />
        </label>
        <label>
          Font{' '}
          <select value={font} onChange={(e) => setFont((e.target as HTMLSelectElement).value)}>
            {FONTS.map((f) => (
              <option key={f}>{f}</option>
            ))}
          </select>
        </label>
        <input
          aria-label="Audience"
          placeholder="contacts, except:+P,… or only:+P,… (default: settings)"
          value={audience}
          onInput={(e) => setAudience((e.target as HTMLInputElement).value)}
        />
        <button type="submit" disabled={!text.trim()}>
          Post status
        </button>
      </form>

      <h3 class="section-title">My status</h3>
      {mine.length === 0 && <p class="muted pad">No status of yours in the last 24 hours.</p>}
      <ul class="chats" aria-label="My status">
        {mine.map((p) => (
          <li key={p.id} class="chat-row status-row">
            <Card p={p} />
            <span class="chat-time">{listTime(p.createdAt)}</span>
            <button onClick={act(async () => setViewers({ id: p.id, list: await P().statusViewers(p.id) }))}>{p.views} views</button>
            <button aria-label="Delete status" onClick={act(() => P().deleteStatus(p.id))}>
              Delete
            </button>
            {viewers?.id === p.id && (
              <ul aria-label="Viewers">
                {viewers.list.map((v) => (
                  <li key={v.user}>
                    {v.name} · {listTime(v.at)}
                  </li>
                ))}
              </ul>
            )}
          </li>
        ))}
      </ul>

      <h3 class="section-title">Updates</h3>
      {posts && people.length === 0 && <p class="muted pad">No status updates from your contacts.</p>}
      <ul class="chats" aria-label="Status updates">
        {people.map(([poster, ps]) => (
          <li key={poster} class={'chat-row' + (ps.some((p) => !p.seen) ? ' unseen' : '')}>
            <button class="chat-open" onClick={() => watch(poster, ps[0].posterName)}>
              <span class="chat-main">
                <span class="chat-top">
                  <span class="chat-title">{ps[0].posterName}</span>
                  <span class="chat-time">{listTime(ps[0].createdAt)}</span>
                </span>
                <span class="chat-last">
                  {ps.filter((p) => !p.seen).length} new of {ps.length}
                  {ps[0].muted ? ' · muted' : ''}
                </span>
              </span>
            </button>
            <button onClick={act(() => P().muteStatus(String(poster), !ps[0].muted))}>{ps[0].muted ? 'Unmute' : 'Mute'}</button>
          </li>
        ))}
      </ul>

      {watching && (
        <div class="status-viewer" role="dialog" aria-label={`Status of ${watching.poster}`}>
          <header class="bar">
            <h3 class="bar-title">{watching.poster}</h3>
            <button class="icon" aria-label="Close" onClick={() => setWatching(null)}>
              ✕
            </button>
          </header>
          {watching.posts.map((p) => (
            <div key={p.id} class="pad">
              <Card p={p} />
              {!p.mine && !p.error && (
                <form
                  onSubmit={async (e) => {
                    e.preventDefault()
                    try {
                      await P().replyStatus(p.id, reply)
                      setReply('')
                    } catch (e) {
                      fail(e)
                    }
                  }}
                >
                  <input
                    aria-label="Reply privately"
                    placeholder="Reply privately"
                    value={reply}
                    onInput={(e) => setReply((e.target as HTMLInputElement).value)}
                  />
                  <button type="submit" disabled={!reply.trim()}>
                    Reply
                  </button>
                </form>
              )}
            </div>
          ))}
        </div>
      )}
    </section>
  )
}
