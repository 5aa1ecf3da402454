import { useEffect, useState } from 'preact/hooks'
import { Icon } from './icons'
import type { Chat, CommunityGroup, Contact, Group, InviteLink, JoinRequest, SafetyNumber, UserId } from '../core/api'
import { errText, go, P, timeOf, useEscape, useName } from './lib'
import { GroupModeration, ReportDialog } from './moderation'
import { AboutLine, Avatar } from './profile'

function useAsync<T>(f: () => Promise<T>, deps: unknown[]): [T | undefined, string, () => void] {
  const [v, setV] = useState<T>()
  const [err, setErr] = useState('')
  const [n, setN] = useState(0)
  useEffect(() => {
    let live = true
    f()
      .then((x) => live && (setV(x), setErr('')))
      .catch((e) => live && setErr(errText(e)))
    return () => {
      live = false
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, n])
  return [v, err, () => setN((x) => x + 1)]
}

function Page({ title, back, children }: { title: string; back: () => void; children: preact.ComponentChildren }) {
  useEscape(back)
  return (
    <section class="page" aria-label={title}>
      <header class="bar">
        <button class="icon back" aria-label="Back" onClick={back}>
          <Icon name="back" />
        </button>
        <h1 class="bar-title">{title}</h1>
      </header>
      <div class="page-body">{children}</div>
    </section>
  )
}

/** Info of a chat: a group's or community's screen, or the contact of a direct chat. */
export function ChatInfo({ chat }: { chat: string }) {
  const [c, err] = useAsync(() => P().chat(chat), [chat])
  if (err) return <p class="error pad">{err}</p>
  if (!c) return <p class="pad">Loading…</p>
  if (c.kind === 'group') return <GroupInfo chat={c} />
  return (
    <Page title="Contact info" back={() => go('chat', chat)}>
      <ContactBody who={String(c.peer)} />
      <ChatSettings chat={c} />
    </Page>
  )
}

export function ContactInfo({ who }: { who: string }) {
  return (
    <Page title="Contact info" back={() => history.back()}>
      <ContactBody who={who} />
    </Page>
  )
}

function ContactBody({ who }: { who: string }) {
  const [c, err, reload] = useAsync<Contact>(() => P().resolve(who), [who])
  const [sn, snErr] = useAsync<SafetyNumber>(() => P().safetyNumber(who), [who])
  const [busyErr, setBusyErr] = useState('')
  const [reporting, setReporting] = useState(false)
  const act = (f: () => Promise<unknown>) =>
    f()
      .then(reload)
      .catch((e) => setBusyErr(errText(e)))
  if (err) return <p class="error">{err}</p>
  if (!c) return <p>Loading…</p>
  return (
    <>
      <div class="profile">
        <Avatar user={c.user} title={c.name} big alt={`Profile photo of ${c.name || c.phone}`} />
        <h2>{c.name}</h2>
        <AboutLine who={who} />
        {c.username && <p class="muted">@{c.username}</p>}
        {c.phone && <p class="muted">{c.phone}</p>}
      </div>
      <section class="card-section" aria-labelledby="safety-h">
        <h3 id="safety-h">Safety number</h3>
        <p class="muted">Compare these numbers with {c.name} in person or on a call. If they match, your chat is end-to-end encrypted with the devices you expect.</p>
        {sn ? (
          <pre class="safety" aria-label="Safety number">
            {sn.number}
          </pre>
        ) : (
          <p class="muted">{snErr || 'Computing…'}</p>
        )}
        <p class="muted">{c.devices.filter((d) => !d.revoked).length} device(s)</p>
      </section>
      <section class="card-section">
        <div class="row">
          {!c.contact ? <button onClick={() => act(() => P().addContact(who))}>Add to contacts</button> : <button onClick={() => act(() => P().removeContact(who))}>Remove from contacts</button>}
          {c.blocked ? (
            <button onClick={() => act(() => P().unblock(who))}>Unblock {c.name}</button>
          ) : (
            <button class="danger" onClick={() => act(() => P().block(who))}>
              Block {c.name}
            </button>
          )}
          <button class="danger" onClick={() => setReporting(true)}>
            Report {c.name}
          </button>
        </div>
        {reporting && <ReportDialog target={String(c.user)} title={c.name} group={false} canBlock={!c.blocked} onClose={() => (setReporting(false), reload())} />}
        {busyErr && (
          <p class="error" role="alert">
            {busyErr}
          </p>
        )}
      </section>
    </>
  )
}

const TTLS: [number, string][] = [
  [0, 'Off'],
  [86400000, '24 hours'],
  [7 * 86400000, '7 days'],
  [90 * 86400000, '90 days'],
]

function ChatSettings({ chat }: { chat: Chat }) {
  const [ttl, , reload] = useAsync(() => P().disappearing(chat.id), [chat.id])
  const [flags, setFlags] = useState(chat)
  const [err, setErr] = useState('')
  const set = async (f: Partial<Chat>) => {
    try {
      setFlags(await P().setChatFlags(chat.id, f))
      dispatchEvent(new Event('parley:chats'))
    } catch (e) {
      setErr(errText(e))
    }
  }
  return (
    <section class="card-section" aria-label="Chat settings">
      <h3>Chat settings</h3>
      <label class="check">
        <input type="checkbox" checked={flags.muted} onChange={(e) => set({ muted: e.currentTarget.checked })} /> Mute notifications
      </label>
      <label class="check">
        <input type="checkbox" checked={flags.pinned} onChange={(e) => set({ pinned: e.currentTarget.checked })} /> Pin chat
      </label>
      <label class="check">
        <input type="checkbox" checked={flags.archived} onChange={(e) => set({ archived: e.currentTarget.checked })} /> Archive chat
      </label>
      <label>
        Disappearing messages
        <select
          value={String(ttl ?? 0)}
          onChange={(e) =>
            P()
              .setDisappearing(chat.id, Number(e.currentTarget.value))
              .then(reload)
              .catch((x) => setErr(errText(x)))
          }
        >
          {TTLS.map(([v, l]) => (
            <option key={v} value={String(v)}>
              {l}
            </option>
          ))}
        </select>
      </label>
      {err && (
        <p class="error" role="alert">
          {err}
        </p>
      )}
    </section>
  )
}

function MemberRow({ g, user, me, isAdmin, onChange }: { g: Group; user: UserId; me: UserId; isAdmin: boolean; onChange: (f: () => Promise<unknown>) => void }) {
  const n = useName(user)
  const m = g.members.find((x) => x.user === user)!
  return (
    <li class="member">
      <Avatar user={user} title={user === me ? 'You' : n} small />
      <button class="link" onClick={() => go('contact', String(user))}>
        {user === me ? 'You' : n}
      </button>
      {m.admin && <span class="tag">admin</span>}
      {isAdmin && user !== me && (
        <span class="row">
          <button onClick={() => onChange(() => P().setGroupAdmin(g.id, String(user), !m.admin))}>{m.admin ? 'Dismiss as admin' : 'Make admin'}</button>
          <button class="danger" onClick={() => onChange(() => P().removeGroupMember(g.id, String(user)))} aria-label={`Remove ${n}`}>
            Remove
          </button>
        </span>
      )}
    </li>
  )
}

function RequestRow({ g, r, onChange }: { g: Group; r: JoinRequest; onChange: (f: () => Promise<unknown>) => void }) {
  const n = useName(r.user)
  return (
    <li class="member">
      <span>
        {n} · {timeOf(r.at)}
      </span>
      <span class="row">
        <button class="primary" onClick={() => onChange(() => P().decideJoinRequest(g.id, r.user, true))} aria-label={`Approve ${n}`}>
          Approve
        </button>
        <button onClick={() => onChange(() => P().decideJoinRequest(g.id, r.user, false))} aria-label={`Decline ${n}`}>
          Decline
        </button>
      </span>
    </li>
  )
}

function GroupInfo({ chat }: { chat: Chat }) {
  const [me] = useAsync(() => P().status(), [])
  const [g, err, reload] = useAsync<Group>(() => P().group(chat.id), [chat.id])
  const [links, , reloadLinks] = useAsync<InviteLink[]>(() => P().inviteLinks(chat.id).catch(() => []), [chat.id])
  const [reqs, , reloadReqs] = useAsync<JoinRequest[]>(() => P().joinRequests(chat.id).catch(() => []), [chat.id])
  const [subs, , reloadSubs] = useAsync<CommunityGroup[]>(
    () => (chat.id && g?.isCommunity ? P().communityGroups(chat.id) : Promise.resolve([])),
    [chat.id, g?.isCommunity],
  )
  const [newLink, setNewLink] = useState('')
  const [approve, setApprove] = useState(false)
  const [add, setAdd] = useState('')
  const [subName, setSubName] = useState('')
  const [announce, setAnnounce] = useState('')
  const [edit, setEdit] = useState<{ name: string; description: string } | null>(null)
  const [e2, setE2] = useState('')
  const [note, setNote] = useState('')
  const [reporting, setReporting] = useState(false)
  if (err) return <p class="error pad">{err}</p>
  if (!g || !me) return <p class="pad">Loading…</p>
  const myId = me.account!.user
  const isAdmin = !!g.members.find((m) => m.user === myId)?.admin
  const canEdit = isAdmin || !g.onlyAdminsEditInfo
  const act = (f: () => Promise<unknown>) => {
    setE2('')
    f()
      .then(() => {
        reload()
        reloadLinks()
        reloadReqs()
        reloadSubs()
      })
      .catch((e) => setE2(errText(e)))
  }

  return (
    <Page title={g.isCommunity ? 'Community info' : 'Group info'} back={() => go('chat', chat.id)}>
      <div class="profile">
        <span class="avatar big" aria-hidden="true">
          {(g.name || '?').slice(0, 1).toUpperCase()}
        </span>
        {edit ? (
          <form
            onSubmit={(e) => {
              e.preventDefault()
              act(() => P().updateGroup(g.id, edit))
              setEdit(null)
            }}
          >
            <label>
              Name
              <input value={edit.name} onInput={(e) => setEdit({ ...edit, name: e.currentTarget.value })} />
            </label>
            <label>
              Description
              <textarea value={edit.description} onInput={(e) => setEdit({ ...edit, description: e.currentTarget.value })} />
            </label>
            <div class="row">
              <button class="primary" type="submit">
                Save
              </button>
              <button type="button" onClick={() => setEdit(null)}>
                Cancel
              </button>
            </div>
          </form>
        ) : (
          <>
            <h2>{g.name}</h2>
            {g.description && <p>{g.description}</p>}
            <p class="muted">
              {g.isCommunity ? 'Community' : g.community ? 'Group in a community' : 'Group'} · {g.members.length} members
            </p>
            {canEdit && <button onClick={() => setEdit({ name: g.name, description: g.description })}>Edit name and description</button>}
          </>
        )}
      </div>
      {e2 && (
        <p class="error" role="alert">
          {e2}
        </p>
      )}
      {note && <p role="status">{note}</p>}

      {g.isCommunity && (
        <section class="card-section" aria-labelledby="subs-h">
          <h3 id="subs-h">Groups in this community</h3>
          <ul class="members">
            {(subs ?? []).map((s) => (
              <li key={s.id} class="member">
                <span>
                  {s.name} <span class="muted">· {s.members} members</span>
                </span>
                {s.member ? (
                  <button onClick={() => go('chat', s.id)}>Open</button>
                ) : s.pending ? (
                  <span class="muted">Asked to join</span>
                ) : (
                  <button onClick={() => act(async () => {
                    const r = await P().joinCommunityGroup(g.id, s.id);
                    if (!r.pending) go('chat', r.group.id);
                  })}>{s.joinApproval ? 'Ask to join' : 'Join'}</button>
                )}
              </li>
            ))}
          </ul>
          {isAdmin && (
            <form
              class="row"
              onSubmit={(e) => {
                e.preventDefault()
                act(() => P().createCommunityGroup(g.id, subName.trim(), []))
                setSubName('')
              }}
            >
              <input aria-label="New group name" placeholder="New group name" required value={subName} onInput={(e) => setSubName(e.currentTarget.value)} />
              <button type="submit">Add group</button>
            </form>
          )}
          {isAdmin && (
            <form
              onSubmit={(e) => {
                e.preventDefault()
                act(() => P().announce(g.id, announce.trim()))
                setAnnounce('')
                setNote('Announcement sent.')
              }}
            >
              <label>
                Announcement to all members
                <textarea required value={announce} onInput={(e) => setAnnounce(e.currentTarget.value)} />
              </label>
              <button type="submit" class="primary">
                Announce
              </button>
            </form>
          )}
        </section>
      )}

      <section class="card-section" aria-labelledby="members-h">
        <h3 id="members-h">{g.members.length} members</h3>
        <ul class="members">
          {g.members.map((m) => (
            <MemberRow key={m.user} g={g} user={m.user} me={myId} isAdmin={isAdmin} onChange={act} />
          ))}
        </ul>
        {isAdmin && (
          <form
            class="row"
            onSubmit={(e) => {
              e.preventDefault()
              act(async () => {
                const r = await P().addGroupMembers(g.id, [add.trim()])
                if (r.invited.length) setNote('Their privacy settings ask for an invitation: one was sent.')
              })
              setAdd('')
            }}
          >
            <input aria-label="Add member by phone or @username" placeholder="+44… or @username" required value={add} onInput={(e) => setAdd(e.currentTarget.value)} />
            <button type="submit">Add member</button>
          </form>
        )}
      </section>

      {isAdmin && (
        <section class="card-section" aria-labelledby="settings-h">
          <h3 id="settings-h">Group settings</h3>
          <label class="check">
            <input type="checkbox" checked={g.onlyAdminsSend} onChange={(e) => act(() => P().updateGroup(g.id, { onlyAdminsSend: e.currentTarget.checked }))} /> Only admins can send
            messages
          </label>
          <label class="check">
            <input type="checkbox" checked={g.onlyAdminsEditInfo} onChange={(e) => act(() => P().updateGroup(g.id, { onlyAdminsEditInfo: e.currentTarget.checked }))} /> Only admins
            can edit group info
          </label>
        </section>
      )}

      {isAdmin && (
        <section class="card-section" aria-labelledby="links-h">
          <h3 id="links-h">Invite links</h3>
          <div class="row">
            <label class="check">
              <input type="checkbox" checked={approve} onChange={(e) => setApprove(e.currentTarget.checked)} /> Admins approve new members
            </label>
            <button
              onClick={() =>
                act(async () => {
                  const l = await P().createInviteLink(g.id, { approve })
                  setNewLink(l.link)
                })
              }
            >
              Create invite link
            </button>
          </div>
          {newLink && (
            <p>
              <label>
                New link (share it; it is shown only once)
                <input readOnly class="invite-link" value={newLink} onFocus={(e) => e.currentTarget.select()} />
              </label>
            </p>
          )}
          <ul class="members">
            {(links ?? []).map((l) => (
              <li key={l.id} class="member">
                <span>
                  Link {l.id.slice(0, 8)} · {l.uses} uses{l.approve ? ' · approval' : ''}
                  {l.revoked ? ' · revoked' : ''}
                </span>
                {!l.revoked && (
                  <button class="danger" onClick={() => act(() => P().revokeInviteLink(g.id, l.id))}>
                    Revoke
                  </button>
                )}
              </li>
            ))}
          </ul>
          <h3>Join requests</h3>
          {(reqs ?? []).length === 0 && <p class="muted">No pending requests.</p>}
          <ul class="members">
            {(reqs ?? []).map((r) => (
              <RequestRow key={r.user} g={g} r={r} onChange={act} />
            ))}
          </ul>
        </section>
      )}

      {isAdmin && <GroupModeration g={g} me={myId} onChanged={reload} />}
      <ChatSettings chat={chat} />
      <section class="card-section">
        <button
          class="danger"
          onClick={() => {
            if (confirm(`Leave ${g.name}?`)) act(async () => (await P().leaveGroup(g.id), go()))
          }}
        >
          Leave {g.isCommunity ? 'community' : 'group'}
        </button>{' '}
        <button class="danger" onClick={() => setReporting(true)}>
          Report {g.isCommunity ? 'community' : 'group'}
        </button>
        {reporting && <ReportDialog target={g.id} title={g.name} group={true} canBlock={false} onClose={() => setReporting(false)} />}
      </section>
    </Page>
  )
}
