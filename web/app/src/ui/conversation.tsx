import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks'
import { Icon } from './icons'
import type { Chat, Extras, Message, MessageInfo, MessageStatus, Presence, SearchHit, Seq, UserId } from '../core/api'
import { Composer } from './composer'
import { dayKey, dayLabel, errText, go, nameOf, P, sizeText, timeOf, useEscape, useEvents, useName, useRoute } from './lib'
import { ReportDialog } from './moderation'
import { Avatar, useFreshName } from './profile'
import { VirtualList } from './virtual'
import { createPortal } from 'preact/compat'
import { durationText, previewOf } from './media'

type Row = { t: 'day'; key: string; label: string } | { t: 'unread'; key: string; n: number } | { t: 'msg'; key: string; m: Message }

const EXTRAS_BLOCK = 256
const CONTROL_KINDS = new Set(['reaction', 'edit', 'delete', 'vote'])
const REACTIONS = ['👍', '❤️', '😂', '😮', '😢', '🙏']
// The picker beyond the six.
const MORE_REACTIONS = ['😀', '😁', '😅', '🤣', '😊', '😍', '😘', '😎', '🤔', '🙄', '😴', '😡', '🥳', '🤯', '😱', '🥺', '👏', '🙌', '👌', '✌️', '🤝', '💪', '👀', '🔥', '✨', '🎉', '💯', '✅', '❌', '💔', '🌹', '☕']
// client.DeleteWindow: one's own messages can be deleted for everyone for 48 hours.
const DELETE_WINDOW_MS = 48 * 3600 * 1000

/** What a message's menu button says to a screen reader: whose message and how it starts. */
function menuLabel(m: Message, sender: string): string {
  const what = m.text ? m.text.slice(0, 60) : m.media ? (m.media.fileName || m.media.kind) : m.kind
  return m.outgoing ? `Options for your message: ${what}` : `Options for message from ${sender || 'contact'}: ${what}`
}

export interface Upload {
  id: number
  name: string
  sent: number
  total: number
  error?: string
}

// A first guess of a row's height (replaced once measured): close guesses
// keep the scrollbar steady while rows stream in during a fast scroll.
function estimateRow(r: Row): number {
  if (r.t === 'day' || r.t === 'unread') return 40
  const m = r.m
  if (m.media?.kind === 'image') return 270
  if (m.kind === 'poll') return 200
  const lines = Math.max(1, Math.ceil((m.text?.length ?? 0) / 58))
  return 42 + 21 * lines + (m.media ? 44 : 0)
}

function keyOfMsg(m: Message): string {
  return m.id || `pending:${m.clientId}`
}

/** A conversation: bubbles, day separators, ticks, typing, replies, reactions, polls, media. */
export function Conversation({ chat: chatId }: { chat: string }) {
  const route = useRoute()
  const focusSeq = route[2] === 'm' ? route[3] : undefined
  const [chat, setChat] = useState<Chat | null>(null)
  const [msgs, setMsgs] = useState<Message[]>([])
  const [extras, setExtras] = useState<Map<Seq, Extras>>(new Map())
  const [limit, setLimit] = useState(200)
  const [complete, setComplete] = useState(false)
  const [err, setErr] = useState('')
  const [typing, setTyping] = useState<Map<UserId, number>>(new Map())
  const [replyTo, setReplyTo] = useState<Message | null>(null)
  const [editing, setEditing] = useState<Message | null>(null)
  const [uploads, setUploads] = useState<Upload[]>([])
  const [me, setMe] = useState<UserId>(0)
  const [searching, setSearching] = useState(false)
  const [admin, setAdmin] = useState(false)
  const [members, setMembers] = useState<string[]>([])
  const [starred, setStarred] = useState<Set<Seq>>(new Set())
  const [presence, setPresence] = useState<Presence | null>(null)
  useFreshName(chat?.kind === 'direct' && me && chat.peer !== me ? chat.peer : undefined, chat?.title, (title) => setChat((c) => c && { ...c, title }))
  // Where the unread messages began when the chat was opened: the divider
  // stays there (the chat is marked read at once) until another chat opens.
  const [unreadFrom, setUnreadFrom] = useState<{ key: string; n: number } | null>(null)
  const firstLoad = useRef(true)
  useEffect(() => {
    firstLoad.current = true
    setUnreadFrom(null)
  }, [chatId])
  const loadingOlder = useRef(false)
  const pendingExtras = useRef(new Set<Seq>())
  const fetchedBlocks = useRef(new Set<number>())

  useEffect(() => {
    P()
      .status()
      .then((s) => setMe(s.account?.user ?? 0))
  }, [])

  const markRead = useCallback(() => {
    if (document.visibilityState !== 'visible') return
    P()
      .markRead(chatId)
      .then(() => dispatchEvent(new Event('parley:chats')))
      .catch(() => {})
  }, [chatId])

  const load = useCallback(
    async (n: number) => {
      try {
        const h = await P().history(chatId, n)
        if (firstLoad.current) {
          firstLoad.current = false
          const unread = h.chat.unread
          if (unread > 0) {
            let seen = 0
            for (let i = h.messages.length - 1; i >= 0; i--) {
              if (h.messages[i].outgoing) continue
              if (++seen === unread) {
                setUnreadFrom({ key: keyOfMsg(h.messages[i]), n: unread })
                break
              }
            }
          }
        }
        // Fetch extras again for whatever is shown from this history.
        fetchedBlocks.current.clear()
        setChat(h.chat)
        setMsgs((old) => {
          // Keep optimistic sends that the core has not returned yet.
          const pend = old.filter((m) => m.status === 'pending' && !m.id)
          return [...h.messages, ...pend]
        })
        setComplete(n <= 0 || h.messages.length < n)
        setErr('')
      } catch (e) {
        setErr(errText(e))
      } finally {
        loadingOlder.current = false
      }
    },
    [chatId],
  )

  useEffect(() => {
    load(limit)
  }, [limit, load])
  const loadStarred = useCallback(
    () =>
      P()
        .starred(chatId)
        .then((hs) => setStarred(new Set(hs.map((h) => h.message.seq))))
        .catch(() => {}),
    [chatId],
  )
  useEffect(() => {
    loadStarred()
  }, [loadStarred])
  useEffect(() => {
    markRead()
    const on = () => markRead()
    document.addEventListener('visibilitychange', on)
    return () => document.removeEventListener('visibilitychange', on)
  }, [markRead])

  const upsert = (m: Message) =>
    setMsgs((old) => {
      const i = old.findIndex((x) => (m.id && x.id === m.id) || (m.clientId && x.clientId === m.clientId))
      if (i >= 0) {
        const next = old.slice()
        next[i] = m
        return next
      }
      return [...old, m]
    })

  const refreshExtras = (seqs: Seq[]) => {
    const want = seqs.filter((s) => s > 0 && !pendingExtras.current.has(s))
    if (!want.length) return
    want.forEach((s) => pendingExtras.current.add(s))
    P()
      .extras(chatId, want)
      .then((r) => {
        setExtras((old) => {
          let next: Map<Seq, Extras> | null = null
          for (const s of want) {
            const e = r[String(s)]
            if (!e && !old.has(s)) continue
            next ??= new Map(old)
            if (e) next.set(s, e)
            else next.delete(s)
          }
          // Nothing new: keep the same map, so nothing re-renders.
          return next ?? old
        })
      })
      .catch(() => {})
      .finally(() => want.forEach((s) => pendingExtras.current.delete(s)))
  }

  useEvents(
    (ev) => {
      if (ev.kind === 'message' && ev.chat === chatId) {
        // Reactions, edits, deletes and votes change another message (the
        // "extras" event follows); they are not messages of their own.
        if (CONTROL_KINDS.has(ev.message.kind)) return
        upsert(ev.message)
        // A new message's reply, mentions or poll are in its extras.
        if (ev.message.seq) refreshExtras([ev.message.seq])
        if (!ev.message.outgoing) markRead()
      } else if (ev.kind === 'receipt' && ev.chat === chatId) {
        for (const m of ev.receipt.updated) upsert(m)
        if (!ev.receipt.updated.length) load(limit)
      } else if (ev.kind === 'extras' && ev.chat === chatId) {
        refreshExtras([ev.seq])
        // An edit or a delete also changes the message itself.
        P()
          .message(`${chatId}:${ev.seq}`)
          .then(upsert)
          .catch(() => {})
      } else if (ev.kind === 'typing' && ev.chat === chatId && ev.user !== me) {
        setTyping((old) => {
          const next = new Map(old)
          if (ev.typing) next.set(ev.user, Date.now())
          else next.delete(ev.user)
          return next
        })
      } else if (ev.kind === 'conversation' && ev.chat === chatId) {
        load(limit)
      } else if (ev.kind === 'presence' && chat?.kind === 'direct' && ev.user === chat.peer) {
        setPresence({ user: ev.user, online: ev.online, lastSeen: ev.lastSeen })
      }
    },
    [chatId, me, limit, chat?.peer],
  )
  // Typing indicators fade if the "stopped" signal never comes.
  useEffect(() => {
    if (!typing.size) return
    const t = setInterval(() => {
      setTyping((old) => {
        const next = new Map([...old].filter(([, at]) => Date.now() - at < 8000))
        return next.size === old.size ? old : next
      })
    }, 2000)
    return () => clearInterval(t)
  }, [typing.size])

  const bySeq = useMemo(() => {
    const m = new Map<Seq, Message>()
    for (const x of msgs) if (x.seq) m.set(x.seq, x)
    return m
  }, [msgs])

  const rows = useMemo(() => {
    const out: Row[] = []
    let last = ''
    for (const m of msgs) {
      const at = m.sentAt || m.storedAt || Date.now()
      const d = dayKey(at)
      if (d !== last) {
        out.push({ t: 'day', key: `day:${d}:${keyOfMsg(m)}`, label: dayLabel(at) })
        last = d
      }
      const key = keyOfMsg(m)
      if (unreadFrom?.key === key) out.push({ t: 'unread', key: `unread:${key}`, n: unreadFrom.n })
      out.push({ t: 'msg', key, m })
    }
    return out
  }, [msgs, unreadFrom])

  // Extras are fetched in blocks of EXTRAS_BLOCK seqs, once per block (events
  // refresh single messages after that): a fast scroll through thousands of
  // messages then costs one call into the core every few dozen frames, not
  // one per frame — the core runs on the page's main thread.
  const onRange = useCallback(
    (first: number, last: number) => {
      for (let i = first; i < last; i++) {
        const r = rows[i]
        if (!r || r.t !== 'msg' || !r.m.seq) continue
        const block = Math.floor(r.m.seq / EXTRAS_BLOCK)
        if (fetchedBlocks.current.has(block)) continue
        fetchedBlocks.current.add(block)
        const seqs: Seq[] = []
        for (let s = Math.max(1, block * EXTRAS_BLOCK); s < (block + 1) * EXTRAS_BLOCK; s++) seqs.push(s)
        refreshExtras(seqs)
      }
    },
    [rows],
  )

  const onNearTop = useCallback(() => {
    if (complete || loadingOlder.current) return
    loadingOlder.current = true
    setLimit((l) => (l >= 5000 ? 0 : l * 4))
  }, [complete])

  const sendText = async (text: string) => {
    if (editing) {
      const m = editing
      setEditing(null)
      try {
        await P().edit(m.id, text)
        refreshExtras([m.seq])
        upsert(await P().message(m.id))
      } catch (e) {
        setErr(errText(e))
      }
      return
    }
    const reply = replyTo
    setReplyTo(null)
    const temp: Message = {
      id: '',
      chat: chatId,
      seq: 0,
      clientId: `local-${Date.now()}-${Math.random()}`,
      sender: me,
      senderDevice: 0,
      outgoing: true,
      kind: 'text',
      text,
      forwarded: false,
      sentAt: Date.now(),
      storedAt: 0,
      status: 'pending',
    }
    setMsgs((old) => [...old, temp])
    try {
      const m = await P().sendText(chatId, text, reply?.seq)
      setMsgs((old) => {
        const without = old.filter((x) => x.clientId !== temp.clientId)
        return without.some((x) => x.id === m.id) ? without : [...without, m]
      })
      if (reply) refreshExtras([m.seq])
    } catch (e) {
      setMsgs((old) => old.filter((x) => x.clientId !== temp.clientId))
      setErr(errText(e))
    }
  }

  const sendFile = async (file: File | Blob, opts: { kind?: 'image' | 'video' | 'voice' | 'document'; caption?: string; durationMs?: number; name?: string; waveform?: number[] }) => {
    const id = Date.now() + Math.random()
    const name = opts.name ?? (file as File).name ?? 'file'
    setUploads((u) => [...u, { id, name, sent: 0, total: file.size }])
    try {
      // Thumbnails, sizes and video durations are made here: the browser
      // decodes images and video, the core in the page does not.
      const pv = opts.kind === 'image' || opts.kind === 'video' ? await previewOf(file, opts.kind) : {}
      const m = await P().sendMedia(chatId, file, { ...opts, ...pv, durationMs: opts.durationMs ?? pv.durationMs }, (sent, total) =>
        setUploads((u) => u.map((x) => (x.id === id ? { ...x, sent, total } : x))),
      )
      upsert(m)
      setUploads((u) => u.filter((x) => x.id !== id))
    } catch (e) {
      setUploads((u) => u.map((x) => (x.id === id ? { ...x, error: errText(e) } : x)))
    }
  }

  // A search hit older than what is loaded: load the whole history.
  useEffect(() => {
    if (focusSeq && !complete && !bySeq.has(Number(focusSeq))) setLimit(0)
  }, [focusSeq, complete, bySeq])

  const typers = [...typing.keys()]
  const isGroup = chat?.kind === 'group'

  // Online / last seen of the other person in a direct chat, as their
  // privacy settings allow (the server hides both otherwise); then kept
  // current by presence events.
  const peer = chat?.kind === 'direct' && chat.peer !== me ? chat.peer : 0
  useEffect(() => {
    setPresence(null)
    if (!peer) return
    let live = true
    P()
      .presence(peer)
      .then((p) => live && setPresence(p))
      .catch(() => {})
    return () => {
      live = false
    }
  }, [peer])

  // Group admins may delete anyone's message; the menu offers it only then.
  // The header lists the members' names.
  useEffect(() => {
    if (!isGroup || !me) {
      setMembers([])
      return setAdmin(false)
    }
    let live = true
    P()
      .group(chatId)
      .then(async (g) => {
        if (!live) return
        setAdmin(g.members.some((x) => x.user === me && x.admin))
        const others = await Promise.all(g.members.filter((x) => x.user !== me).map((x) => nameOf(x.user)))
        if (live) setMembers(['You', ...others.sort((a, b) => a.localeCompare(b))])
      })
      .catch(() => live && setAdmin(false))
    return () => {
      live = false
    }
  }, [chatId, isGroup, me, chat])

  return (
    <section class="conversation" aria-label={`Conversation with ${chat?.title ?? ''}`}>
      <header class="bar">
        <button class="icon back" aria-label="Back to chats" onClick={() => go()}>
          <Icon name="back" />
        </button>
        {chat?.kind === 'direct' && chat.peer !== me && <Avatar user={chat.peer} title={chat.title} small />}
        <button class="bar-title-btn" onClick={() => go('chat', chatId, 'info')} aria-label={`Chat info for ${chat?.title ?? ''}`}>
          <span class="bar-title">{chat?.title ?? '…'}</span>
          <span class="bar-sub" aria-live="polite">
            {typers.length > 0 ? (
              <TypingText users={typers} group={isGroup} />
            ) : isGroup ? (
              members.length ? members.join(', ') : 'tap for group info'
            ) : presence?.online ? (
              'online'
            ) : presence?.lastSeen ? (
              lastSeenText(presence.lastSeen)
            ) : (
              'tap for contact info'
            )}
          </span>
        </button>
        <button class="icon" aria-label="Search in this chat" aria-expanded={searching} onClick={() => setSearching(!searching)}>
          <Icon name="search" />
        </button>
        <button class="icon" aria-label="Chat info" onClick={() => go('chat', chatId, 'info')}>
          <Icon name="info" />
        </button>
      </header>
      {searching && <ChatSearch chat={chatId} onClose={() => setSearching(false)} />}
      {err && (
        <p class="error" role="alert">
          {err}{' '}
          <button class="link" onClick={() => setErr('')}>
            Dismiss
          </button>
        </p>
      )}
      <VirtualList
        items={rows}
        keyOf={(r) => r.key}
        estimate={estimateRow}
        label="Messages"
        onNearTop={onNearTop}
        onRange={onRange}
        focusKey={focusSeq ? `${chatId}:${focusSeq}` : unreadFrom ? `unread:${unreadFrom.key}` : undefined}
        render={(r) =>
          r.t === 'day' ? (
            <div class="day" role="separator">
              <span>{r.label}</span>
            </div>
          ) : r.t === 'unread' ? (
            <div class="day unread-divider" role="separator" aria-label={`${r.n} unread ${r.n === 1 ? 'message' : 'messages'}`}>
              <span>
                {r.n} unread {r.n === 1 ? 'message' : 'messages'}
              </span>
            </div>
          ) : (
            <Bubble
              m={r.m}
              x={extras.get(r.m.seq)}
              group={isGroup}
              me={me}
              admin={admin}
              starred={starred.has(r.m.seq)}
              found={focusSeq === String(r.m.seq)}
              onStarred={loadStarred}
              onDeletedForMe={() => setMsgs((old) => old.filter((x) => x.id !== r.m.id))}
              quoted={(s) => bySeq.get(s)}
              onReply={() => {
                setEditing(null)
                setReplyTo(r.m)
              }}
              onEdit={() => {
                setReplyTo(null)
                setEditing(r.m)
              }}
              onChanged={() => {
                refreshExtras([r.m.seq])
                P()
                  .message(r.m.id)
                  .then(upsert)
                  .catch(() => {})
              }}
              onError={setErr}
            />
          )
        }
      />
      {uploads.length > 0 && (
        <ul class="uploads" aria-label="Uploads">
          {uploads.map((u) => (
            <li key={u.id}>
              <span>
                {u.name} · {sizeText(u.total)}
              </span>
              {u.error ? (
                <span class="error">
                  {u.error}{' '}
                  <button class="link" onClick={() => setUploads((x) => x.filter((y) => y.id !== u.id))}>
                    Dismiss
                  </button>
                </span>
              ) : (
                <progress max={u.total || 1} value={u.sent} aria-label={`Uploading ${u.name}`} />
              )}
            </li>
          ))}
        </ul>
      )}
      <Composer
        chat={chatId}
        replyTo={replyTo}
        editing={editing}
        onCancel={() => {
          setReplyTo(null)
          setEditing(null)
        }}
        onSend={sendText}
        onFile={sendFile}
        onSent={(m) => {
          upsert(m)
          // A poll's question and options are in its extras.
          refreshExtras([m.seq])
        }}
        onError={setErr}
      />
    </section>
  )
}

/** Search within this chat, on the device (the server cannot read it). */
function ChatSearch({ chat, onClose }: { chat: string; onClose: () => void }) {
  const [q, setQ] = useState('')
  const [hits, setHits] = useState<SearchHit[] | null>(null)
  const [err, setErr] = useState('')
  useEscape(onClose)
  useEffect(() => {
    const t = q.trim()
    if (!t) return setHits(null)
    const h = setTimeout(() => {
      P()
        .search(t, chat, 50)
        .then(setHits)
        .catch((e) => setErr(errText(e)))
    }, 200)
    return () => clearTimeout(h)
  }, [q, chat])
  return (
    <div class="chat-search" role="search">
      <input type="search" autoFocus aria-label="Search messages in this chat" placeholder="Search in this chat" value={q} onInput={(e) => setQ(e.currentTarget.value)} />
      {err && <p class="error">{err}</p>}
      {hits && (
        <ul class="search-hits" aria-label="Matching messages">
          {hits.length === 0 && <li class="muted">No messages found.</li>}
          {hits.map((h) => (
            <li key={h.message.id}>
              <button class="link" onClick={() => go('chat', chat, 'm', String(h.message.seq))}>
                {timeOf(h.message.sentAt)} · {h.message.text}
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  )
}

/** "last seen today at 14:05", "last seen yesterday at 09:12", "last seen 3 Dec at 18:40" */
function lastSeenText(ms: number): string {
  const d = new Date(ms)
  const day = dayKey(ms) === dayKey(Date.now()) ? 'today' : dayKey(ms) === dayKey(Date.now() - 86400000) ? 'yesterday' : d.toLocaleDateString([], { day: 'numeric', month: 'short' })
  return `last seen ${day} at ${timeOf(ms)}`
}

function TypingText({ users, group }: { users: UserId[]; group: boolean }) {
  const n = useName(users[0])
  if (!group) return <span class="typing">typing…</span>
  return <span class="typing">{users.length > 1 ? `${users.length} people are typing…` : `${n} is typing…`}</span>
}

export function Ticks({ status }: { status: MessageStatus }) {
  switch (status) {
    case 'pending':
      return (
        <span class="tick pending" role="img" title="Sending" aria-label="Sending">
          <Icon name="clock" size={13} />
        </span>
      )
    case 'sent':
      return (
        <span class="tick sent" role="img" title="Sent" aria-label="Sent">
          ✓
        </span>
      )
    case 'delivered':
      return (
        <span class="tick delivered" role="img" title="Delivered" aria-label="Delivered">
          ✓✓
        </span>
      )
    case 'read':
      return (
        <span class="tick read" role="img" title="Read" aria-label="Read">
          ✓✓
        </span>
      )
    default:
      return null
  }
}

/** Text with @mentions highlighted. */
function RichText({ text }: { text: string }) {
  const parts = text.split(/(@[\p{L}\p{N}_.+-]+)/u)
  return (
    <>
      {parts.map((p, i) =>
        i % 2 === 1 ? (
          <span key={i} class="mention">
            {p}
          </span>
        ) : (
          p
        ),
      )}
    </>
  )
}

function SenderName({ user }: { user: UserId }) {
  const n = useName(user)
  return <span class="sender">{n}</span>
}

interface BubbleProps {
  m: Message
  x?: Extras
  group: boolean
  me: UserId
  quoted: (s: Seq) => Message | undefined
  onReply: () => void
  onEdit: () => void
  /** this user administers the group (and so may delete anyone's message in it) */
  admin: boolean
  /** starred on this device */
  starred: boolean
  onStarred: () => void
  onDeletedForMe: () => void
  onChanged: () => void
  onError: (e: string) => void
  /** the message a search hit opened: highlighted, aria-current */
  found?: boolean
}

/**
 * Whether "Delete for everyone" can succeed, as the core decides it
 * (client.Delete): one's own message within the delete window, or any
 * message in a group one administers.
 */
export function canDeleteForEveryone(m: Message, group: boolean, admin: boolean, now = Date.now()): boolean {
  if (m.outgoing) return !m.sentAt || now - m.sentAt < DELETE_WINDOW_MS
  return group && admin
}

function Bubble({ m, x, group, me, admin, starred, quoted, onReply, onEdit, onStarred, onDeletedForMe, onChanged, onError, found }: BubbleProps) {
  const [menu, setMenu] = useState(false)
  const [info, setInfo] = useState(false)
  const [forwarding, setForwarding] = useState(false)
  const [reporting, setReporting] = useState(false)
  const [whoReacted, setWhoReacted] = useState(false)
  const senderName = useName(m.outgoing ? undefined : m.sender)
  if (m.kind === 'system') {
    return (
      <div class="system-note" role="note">
        {m.text}
      </div>
    )
  }
  const deleted = m.kind === 'deleted' || x?.deleted
  const q = x?.replyTo ? quoted(x.replyTo) : undefined
  const reactions = x ? Object.entries(x.reactions) : []
  const counts = new Map<string, number>()
  for (const [, e] of reactions) counts.set(e, (counts.get(e) ?? 0) + 1)
  const mine = x?.reactions[String(me)]
  const act = async (f: () => Promise<void>) => {
    setMenu(false)
    try {
      await f()
      onChanged()
    } catch (e) {
      onError(errText(e))
    }
  }

  return (
    <div class={'msg ' + (m.outgoing ? 'out' : 'in') + (found ? ' found' : '')} data-seq={m.seq} data-status={m.status} aria-current={found ? 'true' : undefined}>
      <div class="bubble">
        {group && !m.outgoing && <SenderName user={m.sender} />}
        {m.forwarded && <span class="forwarded">↪ Forwarded</span>}
        {x?.replyTo ? (
          <div class="quote" aria-label="Reply to">
            {q ? (
              <>
                <SenderName user={q.sender} />
                <span class="quote-text">{q.text || `[${q.kind}]`}</span>
              </>
            ) : (
              <span class="quote-text">Earlier message</span>
            )}
          </div>
        ) : null}
        {x?.status && (
          <div class="quote" aria-label="Reply to status">
            <span>
              <SenderName user={x.status.poster} /> · Status
            </span>
            <span class="quote-text">{x.status.preview || `[${x.status.kind}]`}</span>
          </div>
        )}
        {deleted ? (
          <span class="deleted">🚫 {x?.deletedByAdmin ? 'This message was deleted by an admin' : 'This message was deleted'}</span>
        ) : m.kind === 'undecryptable' ? (
          <span class="deleted">⚠ This message could not be decrypted on this device</span>
        ) : (
          <>
            {m.media && <MediaView m={m} />}
            {m.kind === 'poll' && x?.poll ? <PollView m={m} x={x} me={me} onError={onError} onChanged={onChanged} /> : null}
            {m.text && m.kind !== 'poll' && (
              <span class="text">
                <RichText text={m.text} />
              </span>
            )}
            {m.kind === 'poll' && !x?.poll && <span class="text">📊 {m.text}</span>}
          </>
        )}
        <span class="meta">
          {starred && (
            <span class="star" title="Starred" aria-label="Starred">
              ★
            </span>
          )}
          {x?.edited && !deleted && <span class="edited">edited</span>}
          <time dateTime={new Date(m.sentAt || Date.now()).toISOString()}>{timeOf(m.sentAt)}</time>
          {m.outgoing && <Ticks status={m.status} />}
        </span>
        {counts.size > 0 && (
          <button
            class="reactions"
            aria-label={`Reactions: ${[...counts].map(([e, n]) => `${e} ${n}`).join(', ')}. Show who reacted`}
            aria-expanded={whoReacted}
            onClick={() => setWhoReacted(!whoReacted)}
          >
            {[...counts].map(([e, n]) => (
              <span key={e} class="reaction">
                {e}
                {n > 1 ? ` ${n}` : ''}
              </span>
            ))}
          </button>
        )}
        {whoReacted && x && <WhoReacted reactions={x.reactions} me={me} onClose={() => setWhoReacted(false)} />}
      </div>
      {m.id && !deleted && (
        <button class="icon msg-menu-btn" aria-label={menuLabel(m, senderName)} aria-expanded={menu} onClick={() => setMenu(!menu)}>
          <Icon name="down" size={18} />
        </button>
      )}
      {menu && (
        <MsgMenu
          onClose={() => setMenu(false)}
          onReply={() => {
            setMenu(false)
            onReply()
          }}
          onReact={(e) => act(() => P().react(m.id, mine === e ? '' : e))}
          onEdit={
            m.outgoing && m.kind === 'text'
              ? () => {
                  setMenu(false)
                  onEdit()
                }
              : undefined
          }
          onDelete={
            canDeleteForEveryone(m, group, admin)
              ? () => {
                  if (confirm('Delete this message for everyone?')) act(() => P().deleteMessage(m.id))
                  else setMenu(false)
                }
              : undefined
          }
          onInfo={!m.outgoing ? () => go('contact', String(m.sender)) : undefined}
          onReport={!m.outgoing && m.seq ? () => (setMenu(false), setReporting(true)) : undefined}
          starred={starred}
          onStar={() =>
            act(async () => {
              await P().star(m.id, !starred)
              onStarred()
            })
          }
          onDeleteForMe={() => {
            if (!confirm('Delete this message from this device? Others keep it.')) return setMenu(false)
            setMenu(false)
            P()
              .deleteForMe(m.id)
              .then(() => {
                onDeletedForMe()
                if (starred) onStarred()
              })
              .catch((e) => onError(errText(e)))
          }}
          onMessageInfo={
            m.outgoing && m.seq
              ? () => {
                  setMenu(false)
                  setInfo(true)
                }
              : undefined
          }
          onCopy={
            m.text && navigator.clipboard
              ? () =>
                  act(async () => {
                    await navigator.clipboard.writeText(m.text)
                  })
              : undefined
          }
          onForward={
            m.kind !== 'poll'
              ? () => {
                  setMenu(false)
                  setForwarding(true)
                }
              : undefined
          }
        />
      )}
      {/* over the whole page: a row of the virtual list is a transformed box */}
      {forwarding && createPortal(<ForwardDialog m={m} onClose={() => setForwarding(false)} onError={onError} />, document.body)}
      {info && createPortal(<MessageInfoDialog m={m} group={group} onClose={() => setInfo(false)} />, document.body)}
      {reporting && createPortal(<ReportDialog target={m.id} title={`message from ${senderName}`} group={group} canBlock onClose={() => setReporting(false)} />, document.body)}
    </div>
  )
}

function MsgMenu(props: {
  onClose: () => void
  onReply: () => void
  onReact: (e: string) => void
  onEdit?: () => void
  onDelete?: () => void
  onInfo?: () => void
  onReport?: () => void
  onCopy?: () => void
  onForward?: () => void
  starred: boolean
  onStar: () => void
  onDeleteForMe: () => void
  onMessageInfo?: () => void
}) {
  const [more, setMore] = useState(false)
  useEscape(props.onClose)
  return (
    <div class="menu msg-menu" role="menu" aria-label="Message options">
      <div class="react-row" role="group" aria-label="React">
        {REACTIONS.map((e) => (
          <button key={e} role="menuitem" aria-label={`React ${e}`} onClick={() => props.onReact(e)}>
            {e}
          </button>
        ))}
        <button role="menuitem" aria-label="More reactions" aria-expanded={more} onClick={() => setMore(!more)}>
          +
        </button>
      </div>
      {more && (
        <div class="react-grid" role="group" aria-label="More reactions">
          {MORE_REACTIONS.map((e) => (
            <button key={e} role="menuitem" aria-label={`React ${e}`} onClick={() => props.onReact(e)}>
              {e}
            </button>
          ))}
        </div>
      )}
      <button role="menuitem" autoFocus onClick={props.onReply}>
        Reply
      </button>
      {props.onCopy && (
        <button role="menuitem" onClick={props.onCopy}>
          Copy
        </button>
      )}
      {props.onForward && (
        <button role="menuitem" onClick={props.onForward}>
          Forward
        </button>
      )}
      <button role="menuitem" onClick={props.onStar}>
        {props.starred ? 'Unstar' : 'Star'}
      </button>
      {props.onEdit && (
        <button role="menuitem" onClick={props.onEdit}>
          Edit
        </button>
      )}
      {props.onDelete && (
        <button role="menuitem" onClick={props.onDelete}>
          Delete for everyone
        </button>
      )}
      <button role="menuitem" onClick={props.onDeleteForMe}>
        Delete for me
      </button>
      {props.onMessageInfo && (
        <button role="menuitem" onClick={props.onMessageInfo}>
          Message info
        </button>
      )}
      {props.onInfo && (
        <button role="menuitem" onClick={props.onInfo}>
          Sender info
        </button>
      )}
      {props.onReport && (
        <button role="menuitem" onClick={props.onReport}>
          Report
        </button>
      )}
    </div>
  )
}

/** When each member received and read one of this user's messages, as receipts reached this device. */
function MessageInfoDialog({ m, group, onClose }: { m: Message; group: boolean; onClose: () => void }) {
  const [info, setInfo] = useState<MessageInfo | null>(null)
  const [err, setErr] = useState('')
  useEscape(onClose)
  useEffect(() => {
    P()
      .messageInfo(m.id)
      .then(setInfo)
      .catch((e) => setErr(errText(e)))
  }, [m.id])
  const when = (ms: number) => (ms ? `${dayLabel(ms)} ${timeOf(ms)}` : '—')
  return (
    <div class="forward-dialog message-info" role="dialog" aria-label="Message info">
      <h2>Message info</h2>
      <p class="quote-text">{m.text || `[${m.kind}]`}</p>
      {err && (
        <p class="error" role="alert">
          {err}
        </p>
      )}
      {info && (
        <ul class="receipts" aria-label={group ? 'Read by members' : 'Delivery'}>
          {info.members.map((r) => (
            <li key={r.user} aria-label={r.name}>
              {group && <strong>{r.name}</strong>}
              <span>
                Delivered: <time>{when(r.deliveredAt || r.readAt)}</time>
              </span>
              <span>
                Read: <time>{when(r.readAt)}</time>
              </span>
            </li>
          ))}
          {info.members.length === 0 && <li class="muted">No other members.</li>}
        </ul>
      )}
      <div class="row">
        <button onClick={onClose}>Close</button>
      </div>
    </div>
  )
}

function Reactor({ user, emoji, me }: { user: UserId; emoji: string; me: UserId }) {
  const n = useName(user === me ? undefined : user)
  return (
    <li>
      <span>{user === me ? 'You' : n}</span> <span>{emoji}</span>
    </li>
  )
}

/** Who reacted with what, under the reactions. */
function WhoReacted({ reactions, me, onClose }: { reactions: Record<string, string>; me: UserId; onClose: () => void }) {
  useEscape(onClose)
  return (
    <ul class="who-reacted" aria-label="Who reacted">
      {Object.entries(reactions).map(([u, e]) => (
        <Reactor key={u} user={Number(u)} emoji={e} me={me} />
      ))}
    </ul>
  )
}

/**
 * Forward a message to one or more chats. The core forwards an attachment
 * by its existing upload (the recipients get the same key and blob), so
 * nothing is uploaded again.
 */
function ForwardDialog({ m, onClose, onError }: { m: Message; onClose: () => void; onError: (e: string) => void }) {
  const [chats, setChats] = useState<Chat[]>([])
  const [picked, setPicked] = useState<Set<string>>(new Set())
  const [busy, setBusy] = useState(false)
  useEscape(onClose)
  useEffect(() => {
    P()
      .chats()
      .then((cs) => setChats(cs.filter((c) => !c.archived)))
      .catch((e) => onError(errText(e)))
  }, [])
  const toggle = (id: string) =>
    setPicked((old) => {
      const next = new Set(old)
      if (next.has(id)) next.delete(id)
      else next.add(id)
      return next
    })
  const send = async () => {
    setBusy(true)
    try {
      for (const id of picked) await P().forward(m.id, id)
      onClose()
    } catch (e) {
      onError(errText(e))
      setBusy(false)
    }
  }
  return (
    <div class="forward-dialog" role="dialog" aria-label="Forward message">
      <h2>Forward to…</h2>
      <ul class="forward-list">
        {chats.map((c) => (
          <li key={c.id}>
            <label class="check">
              <input type="checkbox" checked={picked.has(c.id)} onChange={() => toggle(c.id)} /> {c.title}
            </label>
          </li>
        ))}
      </ul>
      <div class="row">
        <button class="primary" disabled={!picked.size || busy} onClick={send}>
          {picked.size > 1 ? `Forward to ${picked.size} chats` : 'Forward'}
        </button>
        <button onClick={onClose}>Cancel</button>
      </div>
    </div>
  )
}

// Decrypted attachments, by message id, kept while the page lives so scrolling
// back does not download and decrypt again.
const blobs = new Map<string, Promise<string>>()
function mediaURL(id: string): Promise<string> {
  let p = blobs.get(id)
  if (!p) {
    p = P()
      .media(id)
      .then((b) => URL.createObjectURL(b))
    p.catch(() => blobs.delete(id))
    blobs.set(id, p)
  }
  return p
}

function useMediaURL(id: string, auto: boolean): [string, string, () => void] {
  const [url, setUrl] = useState('')
  const [err, setErr] = useState('')
  const [want, setWant] = useState(auto)
  useEffect(() => {
    if (!want || !id) return
    let live = true
    mediaURL(id)
      .then((u) => live && setUrl(u))
      .catch((e) => live && setErr(errText(e)))
    return () => {
      live = false
    }
  }, [id, want])
  return [url, err, () => setWant(true)]
}

/** A photo full size, over the chat, with Save (a download of the decrypted file) and Close. */
function Viewer({ url, name, alt, onClose }: { url: string; name: string; alt: string; onClose: () => void }) {
  useEscape(onClose)
  return (
    <div class="viewer" role="dialog" aria-modal="true" aria-label={`Photo: ${alt}`}>
      <div class="viewer-bar">
        <a class="media-btn" href={url} download={name}>
          Save
        </a>
        <button class="icon" aria-label="Close photo" autoFocus onClick={onClose}>
          <Icon name="close" />
        </button>
      </div>
      <img src={url} alt={alt} />
    </div>
  )
}

/** A voice note's waveform (levels 0–255) as bars, named "Waveform" for screen readers. */
function WaveformBars({ levels }: { levels: number[] }) {
  const w = 2 * levels.length
  return (
    <svg class="waveform" role="img" aria-label="Waveform" viewBox={`0 0 ${w} 32`} width={w * 2} height={32} data-levels={levels.length}>
      {levels.map((l, i) => {
        const h = Math.max(2, Math.round((l / 255) * 30))
        return <rect key={i} x={i * 2} y={(32 - h) / 2} width={1.4} height={h} rx={0.7} />
      })}
    </svg>
  )
}

function MediaView({ m }: { m: Message }) {
  const md = m.media!
  const autoImage = md.kind === 'image' && md.size < 8 << 20
  const [url, err, fetchIt] = useMediaURL(m.id, autoImage)
  const [viewing, setViewing] = useState(false)
  const w = md.width && md.height ? Math.min(280, md.width) : 240
  const h = md.width && md.height ? Math.round((w * md.height) / md.width) : undefined
  switch (md.kind) {
    case 'image':
      return (
        <div class="media image" style={{ width: `${w}px`, height: h ? `${h}px` : undefined }}>
          {url ? (
            <>
              <img src={url} alt={m.text || md.fileName || 'Photo'} class="photo" />
              {/* a transparent button over the photo, beside it in the accessibility tree */}
              <button class="photo-open" aria-label={`Open photo ${m.text || md.fileName || ''}`.trim()} onClick={() => setViewing(true)} />
            </>
          ) : md.thumbnail ? (
            <img src={md.thumbnail} alt={m.text || 'Photo (loading)'} class="photo blur" />
          ) : (
            <span class="muted">{err || 'Loading photo…'}</span>
          )}
          {viewing && url && createPortal(<Viewer url={url} name={md.fileName || 'photo.jpg'} alt={m.text || md.fileName || 'Photo'} onClose={() => setViewing(false)} />, document.body)}
        </div>
      )
    case 'video':
      return url ? (
        <video src={url} controls autoPlay class="media video" aria-label={md.fileName || 'Video'} />
      ) : (
        <div class="video-card">
          {md.thumbnail && <img src={md.thumbnail} alt="Video thumbnail" class="video-thumb" />}
          <button class="media-btn" onClick={fetchIt} aria-label={`Play video${md.durationMs ? `, ${durationText(md.durationMs)}` : ''}, ${sizeText(md.size)}`}>
            <Icon name="play" size={18} /> {md.durationMs ? durationText(md.durationMs) : 'Video'} · {sizeText(md.size)}
          </button>
          {err && <span class="error">{err}</span>}
        </div>
      )
    case 'voice':
      return (
        <div class="voice-note">
          {url ? (
            <>
              <audio src={url} controls autoPlay class="media voice" aria-label="Voice note" />
              {/* a browser's recording carries no duration for <audio> to show until it has played through */}
              {md.durationMs > 0 && <span class="muted">{durationText(md.durationMs)}</span>}
            </>
          ) : (
            <button class="media-btn" onClick={fetchIt} aria-label={`Play voice note${md.durationMs ? `, ${durationText(md.durationMs)}` : ''}`}>
              <Icon name="mic" size={18} /> {md.durationMs ? durationText(md.durationMs) : 'Voice note'} {err && <span class="error">{err}</span>}
            </button>
          )}
          {md.waveform?.length > 0 && <WaveformBars levels={md.waveform} />}
        </div>
      )
    case 'document':
      return url ? (
        <a class="media-btn" href={url} download={md.fileName || 'document'}>
          <Icon name="doc" size={18} /> Save {md.fileName} · {sizeText(md.size)}
        </a>
      ) : (
        <button class="media-btn" onClick={fetchIt}>
          <Icon name="doc" size={18} /> {md.fileName || 'Document'} · {sizeText(md.size)} {err && <span class="error">{err}</span>}
        </button>
      )
    case 'location': {
      const l = md.location
      if (!l) return <span>📍 Location</span>
      return (
        <a class="media-btn" href={`geo:${l.lat},${l.lon}`} aria-label={`Location ${l.name ?? ''} ${l.lat}, ${l.lon}`}>
          <Icon name="location" size={18} /> {l.name || 'Location'} · {l.lat.toFixed(5)}, {l.lon.toFixed(5)}
        </a>
      )
    }
    case 'contact':
      return <pre class="vcard">👤 {md.vcard}</pre>
    default:
      return null
  }
}

function PollView({ m, x, me, onError, onChanged }: { m: Message; x: Extras; me: UserId; onError: (e: string) => void; onChanged: () => void }) {
  const p = x.poll!
  const mine = new Set(p.votes[String(me)] ?? [])
  const total = Object.keys(p.votes).length
  const vote = async (i: number) => {
    let next: number[]
    if (p.multi) {
      const s = new Set(mine)
      if (s.has(i)) s.delete(i)
      else s.add(i)
      next = [...s]
    } else next = mine.has(i) ? [] : [i]
    try {
      await P().vote(m.id, next)
      onChanged()
    } catch (e) {
      onError(errText(e))
    }
  }
  return (
    <div class="poll" role="group" aria-label={`Poll: ${p.question}`}>
      <strong>{p.question}</strong>
      <span class="muted">{p.multi ? 'Select one or more' : 'Select one'}</span>
      {p.options.map((o, i) => (
        <button key={i} class={'poll-opt' + (mine.has(i) ? ' chosen' : '')} aria-pressed={mine.has(i)} onClick={() => vote(i)}>
          <span class="poll-label">{o}</span>
          <span class="poll-count">{p.tallies[i] ?? 0}</span>
          <span class="poll-bar" style={{ width: `${total ? ((p.tallies[i] ?? 0) * 100) / total : 0}%` }} />
        </button>
      ))}
    </div>
  )
}
