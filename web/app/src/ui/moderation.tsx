// Reporting and the operator's report queue.
//
// ReportDialog files a report through the core (parley.report): it says
// plainly what is sent and to whom before anything is sent, and includes
// messages only when the box is ticked. OperatorPage is the server
// operator's queue: it calls the admin API (/admin/v1/reports) from the
// page with the operator token typed here, kept in this tab only
// (sessionStorage), never in the core or IndexedDB.
import { useEffect, useState } from 'preact/hooks'
import type { Group, GroupBan, GroupReport, ReportOptions, UserId } from '../core/api'
import { Icon } from './icons'
import { errText, go, P, timeOf, useEscape, useName } from './lib'

const REASONS: [ReportOptions['reason'], string][] = [
  ['spam', 'Spam'],
  ['abuse', 'Abuse or harassment'],
  ['other', 'Something else'],
]

/**
 * The report dialog. target is what the core reports: "+E164"/"@name"/user id
 * (a person), a chat id, or a message id; group says whether a group's admins
 * see it too; canBlock whether there is one person to block.
 */
export function ReportDialog({ target, title, group, canBlock, onClose }: { target: string; title: string; group: boolean; canBlock: boolean; onClose: () => void }) {
  const [reason, setReason] = useState<ReportOptions['reason']>('spam')
  const [text, setText] = useState('')
  const [include, setInclude] = useState(false)
  const [count, setCount] = useState(5)
  const [block, setBlock] = useState(false)
  const [busy, setBusy] = useState(false)
  const [err, setErr] = useState('')
  const [done, setDone] = useState('')
  useEscape(onClose)
  const send = async (e: Event) => {
    e.preventDefault()
    setBusy(true)
    setErr('')
    try {
      const f = await P().report(target, { reason, text, include: include ? count : 0, block: canBlock && block })
      setDone(`Report sent.${f.included ? ` ${f.included} message(s) included.` : ' No messages were included.'}${f.blocked ? ' Blocked.' : ''}`)
    } catch (x) {
      setErr(errText(x))
    } finally {
      setBusy(false)
    }
  }
  return (
    <div class="forward-dialog report-dialog" role="dialog" aria-label={`Report ${title}`}>
      <h2>Report {title}</h2>
      {done ? (
        <>
          <p role="status">{done}</p>
          <div class="row">
            <button onClick={onClose}>Close</button>
          </div>
        </>
      ) : (
        <form onSubmit={send}>
          <p class="muted" id="report-who">
            Your report — what you report, the reason and your note — goes to this server's operator.
            {group ? " This group's admins see it too, but not who reported it." : ''} Nothing from your chats is sent unless you tick the box below.
          </p>
          <fieldset>
            <legend>Reason</legend>
            {REASONS.map(([v, label]) => (
              <label key={v} class="check">
                <input type="radio" name="report-reason" value={v} checked={reason === v} onChange={() => setReason(v)} /> {label}
              </label>
            ))}
          </fieldset>
          <label>
            Note (optional)
            <textarea maxLength={1000} value={text} onInput={(e) => setText((e.target as HTMLTextAreaElement).value)} />
          </label>
          <label class="check">
            <input type="checkbox" checked={include} onChange={(e) => setInclude((e.target as HTMLInputElement).checked)} /> Include the last {count === 1 ? 'message' : `${count} messages`} (they are decrypted on this device and sent to the server's operator)
          </label>
          {include && (
            <label>
              How many messages
              <select value={count} onChange={(e) => setCount(Number((e.target as HTMLSelectElement).value))}>
                {[1, 3, 5, 10].map((n) => (
                  <option key={n} value={n}>
                    {n}
                  </option>
                ))}
              </select>
            </label>
          )}
          {canBlock && (
            <label class="check">
              <input type="checkbox" checked={block} onChange={(e) => setBlock((e.target as HTMLInputElement).checked)} /> Also block
            </label>
          )}
          {err && (
            <p class="error" role="alert">
              {err}
            </p>
          )}
          <div class="row">
            <button type="button" onClick={onClose}>
              Cancel
            </button>
            <button type="submit" class="danger" disabled={busy}>
              Send report
            </button>
          </div>
        </form>
      )}
    </div>
  )
}

/** A report as the admin API returns it (docs/admin-api.md). */
interface AdminReport {
  id: number
  reporter?: number
  target: 'user' | 'chat' | 'message'
  user?: number
  conversation?: string
  seq?: number
  category: string
  text?: string
  evidence?: { seq: number; sender: number; sent_at: string; kind: string; text?: string }[]
  status: string
  created_at: string
}

const TOKEN_KEY = 'parley.operatorToken'

async function adminCall<T>(token: string, method: string, path: string): Promise<T> {
  const res = await fetch('/admin/v1/' + path, { method, headers: { Authorization: 'Bearer ' + token } })
  const body = await res.json().catch(() => ({}))
  if (!res.ok) throw new Error(body.message || body.reason || `HTTP ${res.status}`)
  return body as T
}

/** The server operator's queue of open reports. */
export function OperatorPage() {
  const [token, setToken] = useState(sessionStorage.getItem(TOKEN_KEY) ?? '')
  const [typed, setTyped] = useState('')
  const [reports, setReports] = useState<AdminReport[] | null>(null)
  const [err, setErr] = useState('')
  useEscape(() => go())
  const load = (t = token) => {
    if (!t) return
    setErr('')
    adminCall<{ data: AdminReport[] }>(t, 'GET', 'reports?status=open')
      .then((l) => setReports(l.data))
      .catch((e) => {
        setReports(null)
        setErr(errText(e))
      })
  }
  useEffect(() => load(), [token])
  const decide = (id: number, verb: 'resolve' | 'dismiss') =>
    adminCall(token, 'POST', `reports/${id}/${verb}`)
      .then(() => load())
      .catch((e) => setErr(errText(e)))
  return (
    <section class="page" aria-label="Reports">
      <header class="bar">
        <button class="icon back" aria-label="Back" onClick={() => go()}>
          <Icon name="back" />
        </button>
        <h1 class="bar-title">Reports</h1>
      </header>
      <div class="page-body">
        <section class="card-section" aria-labelledby="op-token-h">
          <h3 id="op-token-h">Operator token</h3>
          <p class="muted">The server's --operator-token. It stays in this tab only. Viewing the queue is written to the server's audit log.</p>
          <form
            class="row"
            onSubmit={(e) => {
              e.preventDefault()
              sessionStorage.setItem(TOKEN_KEY, typed)
              setToken(typed)
            }}
          >
            <input type="password" aria-label="Operator token" value={typed} onInput={(e) => setTyped((e.target as HTMLInputElement).value)} />
            <button type="submit">Open the queue</button>
          </form>
        </section>
        {err && (
          <p class="error" role="alert">
            {err}
          </p>
        )}
        {reports && (
          <ul class="reports" aria-label="Open reports">
            {reports.length === 0 && <li class="muted">No open reports.</li>}
            {reports.map((r) => (
              <li key={r.id} class="card-section" aria-label={`Report ${r.id}`}>
                <p>
                  <strong>
                    #{r.id} {r.category}
                  </strong>{' '}
                  — a {r.target}
                  {r.user ? ` (user u${r.user})` : ''}
                  {r.conversation ? ` in ${r.conversation}${r.seq ? `:${r.seq}` : ''}` : ''}, reported by u{r.reporter} on {new Date(r.created_at).toLocaleString()}
                </p>
                {r.text && <blockquote>{r.text}</blockquote>}
                {r.evidence?.length ? (
                  <ol aria-label="Included messages">
                    {r.evidence.map((e) => (
                      <li key={e.seq}>
                        u{e.sender}: {e.kind === 'text' ? e.text : `[${e.kind}] ${e.text ?? ''}`}
                      </li>
                    ))}
                  </ol>
                ) : (
                  <p class="muted">No messages included.</p>
                )}
                <div class="row">
                  <button onClick={() => decide(r.id, 'resolve')}>Resolve</button>
                  <button onClick={() => decide(r.id, 'dismiss')}>Dismiss</button>
                </div>
              </li>
            ))}
          </ul>
        )}
      </div>
    </section>
  )
}

function Name({ user }: { user: UserId }) {
  return <>{useName(user) || `u${user}`}</>
}

/**
 * A group admin's moderation (also a community admin's, for its groups): the
 * open reports about the group — without who reported or any included
 * messages, which only the operator sees — and the ban list.
 */
export function GroupModeration({ g, me, onChanged }: { g: Group; me: UserId; onChanged: () => void }) {
  const [reports, setReports] = useState<GroupReport[]>([])
  const [bans, setBans] = useState<GroupBan[]>([])
  const [pick, setPick] = useState('')
  const [err, setErr] = useState('')
  const load = () => {
    P()
      .groupReports(g.id, 'open')
      .then(setReports)
      .catch((e) => setErr(errText(e)))
    P()
      .groupBans(g.id)
      .then(setBans)
      .catch((e) => setErr(errText(e)))
  }
  useEffect(load, [g.id])
  const act = (f: () => Promise<unknown>) => {
    setErr('')
    f()
      .then(() => (load(), onChanged()))
      .catch((e) => setErr(errText(e)))
  }
  const bannable = g.members.filter((m) => m.user !== me && !m.admin)
  return (
    <section class="card-section" aria-labelledby="moderation-h">
      <h3 id="moderation-h">Moderation</h3>
      <h4>Reports about this group</h4>
      <p class="muted">You see what was reported and why, not who reported it nor any messages they included.</p>
      {reports.length === 0 && <p class="muted">No open reports.</p>}
      <ul class="members" aria-label="Reports about this group">
        {reports.map((r) => (
          <li key={r.id} class="member">
            <span>
              {r.category} · {r.target === 'message' ? `message ${r.seq}` : r.target}
              {r.user ? (
                <>
                  {' '}
                  by <Name user={r.user} />
                </>
              ) : null}
              {r.text ? ` — “${r.text}”` : ''} · {timeOf(r.createdAt)}
            </span>
          </li>
        ))}
      </ul>
      <h4>Bans</h4>
      {bannable.length > 0 && (
        <form
          class="row"
          onSubmit={(e) => {
            e.preventDefault()
            if (pick && confirm('Ban this member? They are removed and cannot rejoin until unbanned.')) act(() => P().banFromGroup(g.id, pick))
          }}
        >
          <label>
            Member to ban
            <select value={pick} onChange={(e) => setPick((e.target as HTMLSelectElement).value)}>
              <option value="">Choose…</option>
              {bannable.map((m) => (
                <option key={m.user} value={String(m.user)}>
                  <Name user={m.user} />
                </option>
              ))}
            </select>
          </label>
          <button type="submit" class="danger" disabled={!pick}>
            Ban
          </button>
        </form>
      )}
      {bans.length === 0 && <p class="muted">Nobody is banned.</p>}
      <ul class="members" aria-label="Banned">
        {bans.map((b) => (
          <li key={b.user} class="member">
            <span>
              <Name user={b.user} /> · banned by <Name user={b.by} />
            </span>
            <button onClick={() => act(() => P().unbanFromGroup(g.id, String(b.user)))}>Unban</button>
          </li>
        ))}
      </ul>
      {err && (
        <p class="error" role="alert">
          {err}
        </p>
      )}
    </section>
  )
}
