import { useEffect, useMemo, useState } from 'preact/hooks'
import { Icon } from './icons'
import type { UserId } from '../core/api'
import { errText, go, nameOf, P, useEscape } from './lib'
import { Broadcasts } from './broadcast'

/** A person the picker offers: from the contacts and the direct chats. */
export interface Person {
  user: UserId
  label: string
  /** what the filter matches: name, @username, phone */
  search: string
}

/** People this device knows (contacts and direct chats, not blocked, not oneself), by name. */
export function usePeople(): Person[] {
  const [people, setPeople] = useState<Person[]>([])
  useEffect(() => {
    let live = true
    ;(async () => {
      const [contacts, chats, status] = await Promise.all([P().contacts(), P().chats(), P().status()])
      const me = status.account?.user
      const byUser = new Map<UserId, Person>()
      for (const c of contacts) {
        if (c.blocked || c.user === me) continue
        const label = c.name || (c.username ? `@${c.username}` : c.phone) || (await nameOf(c.user))
        byUser.set(c.user, { user: c.user, label, search: [c.name, c.username, c.phone].join(' ').toLowerCase() })
      }
      for (const ch of chats) {
        if (ch.kind !== 'direct' || !ch.peer || ch.peer === me || byUser.has(ch.peer)) continue
        const label = await nameOf(ch.peer)
        byUser.set(ch.peer, { user: ch.peer, label, search: label.toLowerCase() })
      }
      if (live) setPeople([...byUser.values()].sort((a, b) => a.label.localeCompare(b.label)))
    })().catch(() => {})
    return () => {
      live = false
    }
  }, [])
  return people
}

/**
 * The contact picker: a filter box and the people it matches. With onPick a
 * person is a button (open the chat with them); with selected/onToggle a
 * checkbox (choose group members).
 */
export function Picker({ people, onPick, selected, onToggle }: { people: Person[]; onPick?: (p: Person) => void; selected?: Set<UserId>; onToggle?: (p: Person) => void }) {
  const [q, setQ] = useState('')
  const shown = useMemo(() => {
    const f = q.trim().toLowerCase()
    return f ? people.filter((p) => p.search.includes(f) || p.label.toLowerCase().includes(f)) : people
  }, [people, q])
  return (
    <div class="picker">
      <label>
        Search contacts
        <input type="search" value={q} onInput={(e) => setQ(e.currentTarget.value)} />
      </label>
      {people.length === 0 && <p class="muted">No contacts yet: enter a phone number or @username.</p>}
      <ul class="picker-list" aria-label="Contacts">
        {shown.map((p) => (
          <li key={p.user}>
            {onPick ? (
              <button type="button" class="picker-row" onClick={() => onPick(p)}>
                <span class="avatar" aria-hidden="true">
                  {p.label.replace(/^[@+]/, '').slice(0, 1).toUpperCase()}
                </span>
                {p.label}
              </button>
            ) : (
              <label class="check picker-row">
                <input type="checkbox" checked={selected?.has(p.user)} onChange={() => onToggle?.(p)} />
                {p.label}
              </label>
            )}
          </li>
        ))}
      </ul>
    </div>
  )
}

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
  const [picked, setPicked] = useState<Set<UserId>>(new Set())
  const people = usePeople()
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
    ['broadcast', 'Broadcast'],
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
                const first = text.trim()
                if (first) {
                  await P().resolve(who)
                  const m = await P().send(who, first)
                  go('chat', m.chat)
                } else {
                  // Open the chat without a first message.
                  const ch = await P().openChat(who)
                  go('chat', ch.id)
                }
              })
            }}
          >
            <label>
              Phone number or @username
              <input name="to" required placeholder="+44 7700 900123 or @alice" value={to} onInput={(e) => setTo(e.currentTarget.value)} />
            </label>
            <label>
              First message (optional)
              <input name="first" value={text} onInput={(e) => setText(e.currentTarget.value)} />
            </label>
            <button class="primary" type="submit" disabled={busy}>
              Start chat
            </button>
            <Picker people={people} onPick={(p) => run(async () => go('chat', (await P().openChat(String(p.user))).id))} />
          </form>
        )}
        {(mode === 'group' || mode === 'community') && (
          <form
            onSubmit={(e) => {
              e.preventDefault()
              run(async () => {
                const ms = [...splitPeople(members), ...[...picked].map(String)]
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
        {mode === 'broadcast' && <Broadcasts people={people} run={run} busy={busy} setNote={setNote} />}
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
