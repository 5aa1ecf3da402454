import { useState } from 'preact/hooks'
import { Icon } from './icons'
import { errText, go, P, useEscape } from './lib'

const splitPeople = (s: string) =>
  s
    .split(/[,\n]/)
    .map((x) => x.trim())
    .filter(Boolean)

/** New chat by phone or @username, new group, new community, join by invite link. */
export function NewChat({ mode }: { mode: string }) {
  const [to, setTo] = useState('')
  const [text, setText] = useState('')
  const [name, setName] = useState('')
  const [members, setMembers] = useState('')
  const [link, setLink] = useState('')
  const [busy, setBusy] = useState(false)
  const [err, setErr] = useState('')
  const [note, setNote] = useState('')
  useEscape(() => go())

  const run = async (f: () => Promise<void>) => {
    setBusy(true)
    setErr('')
    try {
      await f()
    } catch (e) {
      setErr(errText(e))
    } finally {
      setBusy(false)
    }
  }

  const tabs: [string, string][] = [
    ['chat', 'Chat'],
    ['group', 'Group'],
    ['community', 'Community'],
    ['join', 'Join with link'],
  ]

  return (
    <section class="page" aria-label="New chat">
      <header class="bar">
        <button class="icon back" aria-label="Back" onClick={() => go()}>
          <Icon name="back" />
        </button>
        <h1 class="bar-title">New</h1>
      </header>
      <nav class="tabs" aria-label="What to start">
        {tabs.map(([k, l]) => (
          <button key={k} aria-current={mode === k ? 'page' : undefined} class={mode === k ? 'on' : ''} onClick={() => go('new', k)}>
            {l}
          </button>
        ))}
      </nav>
      <div class="page-body">
        {mode === 'chat' && (
          <form
            onSubmit={(e) => {
              e.preventDefault()
              run(async () => {
                const who = to.trim()
                await P().resolve(who)
                const m = await P().send(who, text.trim())
                go('chat', m.chat)
              })
            }}
          >
            <label>
              Phone number or @username
              <input name="to" required placeholder="+44 7700 900123 or @alice" value={to} onInput={(e) => setTo(e.currentTarget.value)} />
            </label>
            <label>
              First message
              <input name="first" required value={text} onInput={(e) => setText(e.currentTarget.value)} />
            </label>
            <button class="primary" type="submit" disabled={busy}>
              Start chat
            </button>
          </form>
        )}
        {(mode === 'group' || mode === 'community') && (
          <form
            onSubmit={(e) => {
              e.preventDefault()
              run(async () => {
                const ms = splitPeople(members)
                const r = mode === 'group' ? await P().createGroup(name.trim(), ms) : await P().createCommunity(name.trim(), ms)
                if (r.invited.length) setNote(`${r.invited.length} people were sent an invitation instead, by their privacy settings.`)
                go('chat', r.group.id)
              })
            }}
          >
            <label>
              {mode === 'group' ? 'Group name' : 'Community name'}
              <input name="groupname" required value={name} onInput={(e) => setName(e.currentTarget.value)} />
            </label>
            <label>
              Members (phone numbers or @usernames, separated by commas; may be empty)
              <textarea name="members" rows={3} value={members} onInput={(e) => setMembers(e.currentTarget.value)} />
            </label>
            <button class="primary" type="submit" disabled={busy}>
              Create {mode}
            </button>
          </form>
        )}
        {mode === 'join' && (
          <form
            onSubmit={(e) => {
              e.preventDefault()
              run(async () => {
                const r = await P().joinByLink(link.trim())
                if (r.pending) setNote(`Asked to join ${r.group.name}. An admin must approve the request.`)
                else go('chat', r.group.id)
              })
            }}
          >
            <label>
              Invite link
              <input name="link" required placeholder="parley://join/…" value={link} onInput={(e) => setLink(e.currentTarget.value)} />
            </label>
            <button class="primary" type="submit" disabled={busy}>
              Join group
            </button>
          </form>
        )}
        {busy && <p role="status">Working…</p>}
        {note && <p role="status">{note}</p>}
        {err && (
          <p class="error" role="alert">
            {err}
          </p>
        )}
      </div>
    </section>
  )
}
