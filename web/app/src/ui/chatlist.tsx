import { useEffect, useState } from 'preact/hooks'
import { lastTextLabel } from './media'
import { Icon } from './icons'
import { Avatar } from './profile'
import type { Account, Chat, SearchHit } from '../core/api'
import { errText, go, isMuted, listTime, MUTE_FOR, P, useEscape, useEvents } from './lib'

/** Tells the service worker which chats are muted, so that it shows no notification for them. */
function postMutes(cs: Chat[]) {
  const mutes: Record<string, number> = {}
  for (const c of cs) if (isMuted(c)) mutes[c.id] = c.muted ? -1 : c.mutedUntil
  navigator.serviceWorker?.controller?.postMessage({ type: 'mutes', mutes })
}

function sortChats(cs: Chat[]): Chat[] {
  return [...cs].sort((a, b) => Number(b.pinned) - Number(a.pinned) || b.updatedAt - a.updatedAt)
}

/** The chat list: unread counts, last message, times, muted/pinned, archived apart, search. */
export function ChatList({ active, me }: { active?: string; me: Account }) {
  const [chats, setChats] = useState<Chat[]>([])
  const [err, setErr] = useState('')
  const [query, setQuery] = useState('')
  const [hits, setHits] = useState<SearchHit[] | null>(null)
  const [showArchived, setShowArchived] = useState(false)
  const [menu, setMenu] = useState<string | null>(null)
  const [listMenu, setListMenu] = useState(false)

  const load = () =>
    P()
      .chats()
      .then((cs) => {
        setChats(cs)
        setErr('')
        postMutes(cs)
      })
      .catch((e) => setErr(errText(e)))
  useEffect(() => {
    load()
  }, [])
  useEvents(
    (ev) => {
      if (ev.kind === 'message' || ev.kind === 'conversation' || ev.kind === 'receipt' || ev.kind === 'extras') load()
    },
    [],
  )
  // Reload when a conversation marks itself read.
  useEffect(() => {
    const on = () => load()
    addEventListener('parley:chats', on)
    return () => removeEventListener('parley:chats', on)
  }, [])

  // On-device search: titles filter immediately, message hits from the core.
  useEffect(() => {
    const q = query.trim()
    if (!q) {
      setHits(null)
      return
    }
    const t = setTimeout(() => {
      P()
        .search(q, undefined, 50)
        .then(setHits)
        .catch((e) => setErr(errText(e)))
    }, 200)
    return () => clearTimeout(t)
  }, [query])

  const q = query.trim().toLowerCase()
  const shown = sortChats(chats.filter((c) => !q || c.title.toLowerCase().includes(q)))
  const main = shown.filter((c) => !c.archived)
  const archived = shown.filter((c) => c.archived)

  const setFlags = async (c: Chat, flags: Partial<Chat>) => {
    setMenu(null)
    try {
      await P().setChatFlags(c.id, flags)
      load()
    } catch (e) {
      setErr(errText(e))
    }
  }

  const act = async (f: () => Promise<unknown>) => {
    setMenu(null)
    try {
      await f()
      load()
    } catch (e) {
      setErr(errText(e))
    }
  }

  const row = (c: Chat) => (
    <li key={c.id} class={'chat-row' + (c.id === active ? ' active' : '')}>
      <button class="chat-open" onClick={() => go('chat', c.id)} aria-label={`Open chat ${c.title}${c.unread ? `, ${c.unread} unread` : c.markedUnread ? ', marked unread' : ''}`}>
        {c.kind === 'direct' && c.peer ? (
          <Avatar user={c.peer} title={c.title} />
        ) : (
          <span class="avatar" aria-hidden="true">
            {/^[+0-9]/.test(c.title) ? <Icon name="person" size={26} /> : (c.title || '?').replace(/^@/, '').slice(0, 1).toUpperCase()}
          </span>
        )}
        <span class="chat-main">
          <span class="chat-top">
            <span class="chat-title">{c.title}</span>
            <span class={'chat-time' + (c.unread || c.markedUnread ? ' unread' : '')}>{listTime(c.updatedAt)}</span>
          </span>
          <span class="chat-bottom">
            <span class="chat-last">{lastTextLabel(c.lastText)}</span>
            {isMuted(c) && (
              <span class="flag" title={c.muted ? 'Muted' : `Muted until ${new Date(c.mutedUntil).toLocaleString()}`} aria-label="Muted">
                <Icon name="muted" size={16} />
              </span>
            )}
            {c.pinned && (
              <span class="flag" title="Pinned" aria-label="Pinned">
                <Icon name="pin" size={16} />
              </span>
            )}
            {c.unread > 0 && (
              <span class={'badge' + (isMuted(c) ? ' muted' : '')} aria-label={`${c.unread} unread`}>
                {c.unread}
              </span>
            )}
            {c.unread === 0 && c.markedUnread && <span class={'badge dot' + (isMuted(c) ? ' muted' : '')} aria-label="Marked unread" />}
          </span>
        </span>
      </button>
      <button class="icon chat-menu-btn" aria-label={`Options for ${c.title}`} aria-expanded={menu === c.id} onClick={() => setMenu(menu === c.id ? null : c.id)}>
        <Icon name="more" />
      </button>
      {menu === c.id && (
        <ChatMenu
          chat={c}
          onFlags={(f) => setFlags(c, f)}
          onMute={(ms) => act(() => P().mute(c.id, ms))}
          onMarkUnread={(on) => act(() => P().markUnread(c.id, on))}
          onClose={() => setMenu(null)}
        />
      )}
    </li>
  )

  return (
    <div class="chatlist">
      <header class="bar">
        <h1 class="bar-title">Chats</h1>
        <button class="icon" aria-label="Status" title="Status" onClick={() => go('status')}>
          <Icon name="status" />
        </button>
        <button class="icon" aria-label="New chat" title="New chat" onClick={() => go('new')}>
          <Icon name="compose" />
        </button>
        <button class="icon" aria-label="Settings" title="Settings" onClick={() => go('settings')}>
          <Icon name="settings" />
        </button>
        <button class="icon" aria-label="More options" title="More options" aria-expanded={listMenu} onClick={() => setListMenu(!listMenu)}>
          <Icon name="more" />
        </button>
        {listMenu && <ListMenu onClose={() => setListMenu(false)} />}
      </header>
      <div class="searchbox">
        <input type="search" aria-label="Search chats and messages" placeholder="Search" value={query} onInput={(e) => setQuery(e.currentTarget.value)} />
      </div>
      {err && (
        <p class="error" role="alert">
          {err}
        </p>
      )}
      <ul class="chats" aria-label="Chat list">
        {main.map(row)}
      </ul>
      {main.length === 0 && !q && <p class="muted pad">No chats yet: start one with the pencil button. You are {me.phone}.</p>}
      {archived.length > 0 && (
        <section class="archived">
          <button class="section-toggle" aria-expanded={showArchived} onClick={() => setShowArchived(!showArchived)}>
            Archived ({archived.length})
          </button>
          {showArchived && <ul class="chats" aria-label="Archived chats">{archived.map(row)}</ul>}
        </section>
      )}
      {hits && (
        <section class="hits" aria-label="Messages found">
          <h2 class="section-title">Messages</h2>
          {hits.length === 0 && <p class="muted pad">No messages found.</p>}
          <ul class="chats">
            {hits.map((h) => (
              <li key={h.message.id} class="chat-row">
                <button class="chat-open" onClick={() => go('chat', h.chat, 'm', String(h.message.seq))}>
                  <span class="chat-main">
                    <span class="chat-top">
                      <span class="chat-title">{h.chatTitle}</span>
                      <span class="chat-time">{listTime(h.message.sentAt)}</span>
                    </span>
                    <span class="chat-last">{h.message.text}</span>
                  </span>
                </button>
              </li>
            ))}
          </ul>
        </section>
      )}
    </div>
  )
}

function ListMenu({ onClose }: { onClose: () => void }) {
  useEscape(onClose)
  const open = (...route: string[]) => {
    onClose()
    go(...route)
  }
  return (
    <div class="menu list-menu" role="menu" aria-label="More options">
      <button role="menuitem" autoFocus onClick={() => open('starred')}>
        Starred messages
      </button>
      <button role="menuitem" onClick={() => open('status')}>
        Status
      </button>
      <button role="menuitem" onClick={() => open('new', 'group')}>
        New group
      </button>
      <button role="menuitem" onClick={() => open('settings')}>
        Settings
      </button>
      <button role="menuitem" onClick={() => open('operator')}>
        Reports (server operator)
      </button>
    </div>
  )
}

function ChatMenu(props: {
  chat: Chat
  onFlags: (f: Partial<Chat>) => void
  onMute: (forMs: number) => void
  onMarkUnread: (on: boolean) => void
  onClose: () => void
}) {
  const { chat, onFlags, onClose } = props
  const [muteFor, setMuteFor] = useState(false)
  useEscape(onClose)
  const muted = isMuted(chat)
  const unread = chat.unread > 0 || chat.markedUnread
  return (
    <div class="menu" role="menu" aria-label={`Options for ${chat.title}`}>
      <button role="menuitem" autoFocus onClick={() => onFlags({ pinned: !chat.pinned })}>
        {chat.pinned ? 'Unpin' : 'Pin'}
      </button>
      {muted ? (
        <button role="menuitem" onClick={() => props.onMute(0)}>
          Unmute
        </button>
      ) : (
        <button role="menuitem" aria-expanded={muteFor} onClick={() => setMuteFor(!muteFor)}>
          Mute…
        </button>
      )}
      {muteFor && (
        <div class="submenu" role="group" aria-label="Mute for">
          {MUTE_FOR.map(([ms, label]) => (
            <button key={ms} role="menuitem" onClick={() => props.onMute(ms)}>
              {label}
            </button>
          ))}
        </div>
      )}
      {!unread && (
        <button role="menuitem" onClick={() => props.onMarkUnread(true)}>
          Mark as unread
        </button>
      )}
      {chat.markedUnread && (
        <button role="menuitem" onClick={() => props.onMarkUnread(false)}>
          Mark as read
        </button>
      )}
      <button role="menuitem" onClick={() => onFlags({ archived: !chat.archived })}>
        {chat.archived ? 'Unarchive' : 'Archive'}
      </button>
    </div>
  )
}
