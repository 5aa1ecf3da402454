import { useEffect, useState } from 'preact/hooks'
import type { BroadcastList, UserId } from '../core/api'
import { P } from './lib'
import { Picker, type Person } from './newchat'

/**
 * Broadcast lists (docs/broadcast.md): named lists of up to 256 contacts,
 * kept on this device. A message to a list reaches each recipient as an
 * ordinary message in the 1:1 chat with them; only those who have you in
 * their contacts receive it, and no one sees the others.
 */
export function Broadcasts({ people, run, busy, setNote }: { people: Person[]; run: (f: () => Promise<void>) => Promise<void>; busy: boolean; setNote: (s: string) => void }) {
  const [lists, setLists] = useState<BroadcastList[]>([])
  const [open, setOpen] = useState('')
  const reload = async () => setLists(await P().broadcasts())
  useEffect(() => {
    reload().catch(() => {})
  }, [])
  const list = lists.find((l) => l.name === open)
  return (
    <div class="broadcasts">
      <p class="muted">Only contacts who have saved your number receive your broadcasts. Each gets it as a private message from you; replies come to your chat with them.</p>
      {list ? (
        <ListView list={list} people={people} run={run} busy={busy} setNote={setNote} onBack={() => setOpen('')} onChanged={async (name) => (await reload(), setOpen(name))} />
      ) : (
        <>
          <ul class="picker-list" aria-label="Broadcast lists">
            {lists.map((l) => (
              <li key={l.id}>
                <button type="button" class="picker-row" onClick={() => setOpen(l.name)}>
                  {l.name} <span class="muted">{`${l.recipients.length} recipient${l.recipients.length === 1 ? '' : 's'}`}</span>
                </button>
              </li>
            ))}
          </ul>
          <CreateList people={people} run={run} busy={busy} onCreated={async (name) => (await reload(), setOpen(name))} />
        </>
      )}
    </div>
  )
}

function toggle(set: Set<UserId>, u: UserId): Set<UserId> {
  const next = new Set(set)
  if (!next.delete(u)) next.add(u)
  return next
}

function CreateList({ people, run, busy, onCreated }: { people: Person[]; run: (f: () => Promise<void>) => Promise<void>; busy: boolean; onCreated: (name: string) => Promise<void> }) {
  const [name, setName] = useState('')
  const [picked, setPicked] = useState<Set<UserId>>(new Set())
  return (
    <form
      aria-label="New broadcast list"
      onSubmit={(e) => {
        e.preventDefault()
        run(async () => {
          const l = await P().createBroadcast(name.trim(), [...picked].map(String))
          setName('')
          setPicked(new Set())
          await onCreated(l.name)
        })
      }}
    >
      <label>
        List name
        <input name="listname" required maxLength={64} value={name} onInput={(e) => setName(e.currentTarget.value)} />
      </label>
      <Picker people={people} selected={picked} onToggle={(p) => setPicked((old) => toggle(old, p.user))} />
      <button class="primary" type="submit" disabled={busy || picked.size === 0}>
        Create list
      </button>
    </form>
  )
}

function ListView({ list, people, run, busy, setNote, onBack, onChanged }: { list: BroadcastList; people: Person[]; run: (f: () => Promise<void>) => Promise<void>; busy: boolean; setNote: (s: string) => void; onBack: () => void; onChanged: (name: string) => Promise<void> }) {
  const [text, setText] = useState('')
  const [editing, setEditing] = useState(false)
  const [confirming, setConfirming] = useState(false)
  const [rename, setRename] = useState(list.name)
  const members = new Set(list.recipients.map((r) => r.user))
  const [picked, setPicked] = useState<Set<UserId>>(members)
  return (
    <section aria-label={`Broadcast list ${list.name}`}>
      <h2>{list.name}</h2>
      <p>{`To: ${list.recipients.map((r) => r.title).join(', ')}`}</p>
      <p class="muted">Each recipient gets this as a private message in your chat with them.</p>
      <form
        onSubmit={(e) => {
          e.preventDefault()
          run(async () => {
            const sent = await P().sendBroadcast(list.name, text.trim())
            setText('')
            const failed = sent.copies.filter((c) => c.error)
            setNote(`Sent to ${sent.copies.length - failed.length} of ${sent.copies.length}` + (failed.length ? `; not sent to ${failed.map((c) => `${c.title} (${c.error})`).join(', ')}` : '') + '.')
          })
        }}
      >
        <label>
          Broadcast message
          <textarea name="broadcast" required rows={3} value={text} onInput={(e) => setText(e.currentTarget.value)} />
        </label>
        <button class="primary" type="submit" disabled={busy}>
          Send to list
        </button>
      </form>
      {editing ? (
        <form
          aria-label="Edit list"
          onSubmit={(e) => {
            e.preventDefault()
            run(async () => {
              const add = [...picked].filter((u) => !members.has(u)).map(String)
              const remove = [...members].filter((u) => !picked.has(u)).map(String)
              const l = await P().editBroadcast(list.name, { rename: rename.trim() !== list.name ? rename.trim() : undefined, add, remove })
              setEditing(false)
              await onChanged(l.name)
            })
          }}
        >
          <label>
            List name
            <input name="rename" required maxLength={64} value={rename} onInput={(e) => setRename(e.currentTarget.value)} />
          </label>
          <Picker people={people} selected={picked} onToggle={(p) => setPicked((old) => toggle(old, p.user))} />
          <button class="primary" type="submit" disabled={busy || picked.size === 0}>
            Save list
          </button>
        </form>
      ) : (
        <div class="row">
          <button type="button" onClick={() => setEditing(true)}>
            Edit list
          </button>
          {confirming ? (
            <button
              type="button"
              class="danger"
              onClick={() =>
                run(async () => {
                  await P().deleteBroadcast(list.name)
                  setNote(`Deleted the list ${list.name}; messages already sent stay in their chats.`)
                  onBack()
                  await onChanged('')
                })
              }
            >
              Confirm: delete list
            </button>
          ) : (
            <button type="button" onClick={() => setConfirming(true)}>
              Delete list
            </button>
          )}
          <button type="button" onClick={onBack}>
            All lists
          </button>
        </div>
      )}
    </section>
  )
}
