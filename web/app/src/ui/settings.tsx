import qrcode from 'qrcode-generator'
import { BackupSettings } from './backup'
import { Icon } from './icons'
import { useEffect, useState } from 'preact/hooks'
import type { DeviceKey, GroupInvitation, LinkCode, Status, Visibility } from '../core/api'
import { applyTheme, errText, getTheme, go, P, useEscape, type Theme } from './lib'
import { ProfileEditor } from './profile'

function QR({ text, label }: { text: string; label: string }) {
  const q = qrcode(0, 'M')
  q.addData(text)
  q.make()
  return <div class="qr" role="img" aria-label={label} dangerouslySetInnerHTML={{ __html: q.createSvgTag({ cellSize: 5, margin: 2, scalable: true }) }} />
}

function urlB64ToBytes(s: string): Uint8Array<ArrayBuffer> {
  const b = atob(s.replace(/-/g, '+').replace(/_/g, '/') + '==='.slice((s.length + 3) % 4))
  const out = new Uint8Array(b.length)
  for (let i = 0; i < b.length; i++) out[i] = b.charCodeAt(i)
  return out
}

/** Subscribe this browser to Web Push with the server's own VAPID key. */
export async function enablePush(): Promise<string> {
  if (!('serviceWorker' in navigator) || !('PushManager' in window)) throw new Error('This browser has no Web Push.')
  const perm = await Notification.requestPermission()
  if (perm !== 'granted') throw new Error('Notifications are not allowed for this site.')
  const reg = await navigator.serviceWorker.ready
  const key = await P().vapidKey()
  let sub = await reg.pushManager.getSubscription()
  if (!sub) sub = await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: urlB64ToBytes(key) })
  await P().subscribePush(sub.toJSON())
  return sub.endpoint
}

export function Settings({ status }: { status: Status }) {
  const acct = status.account!
  const [err, setErr] = useState('')
  const [note, setNote] = useState('')
  const [username, setUsername] = useState('')
  const [findBy, setFindBy] = useState<Visibility>('everyone')
  const [lastSeen, setLastSeen] = useState<Visibility>('everyone')
  const [groupAdd, setGroupAdd] = useState<Visibility>('everyone')
  const [pin, setPin] = useState('')
  const [oldPin, setOldPin] = useState('')
  const [devices, setDevices] = useState<DeviceKey[]>([])
  const [link, setLink] = useState<LinkCode | null>(null)
  const [theme, setTheme] = useState<Theme>(getTheme())
  const [invites, setInvites] = useState<GroupInvitation[]>([])
  useEscape(() => go())

  const run = async (f: () => Promise<unknown>, ok?: string) => {
    setErr('')
    setNote('')
    try {
      await f()
      if (ok) setNote(ok)
    } catch (e) {
      setErr(errText(e))
    }
  }
  const loadDevices = () => P().devices().then(setDevices).catch((e) => setErr(errText(e)))
  useEffect(() => {
    loadDevices()
    P()
      .groupInvitations()
      .then(setInvites)
      .catch(() => {})
  }, [])

  return (
    <section class="page" aria-label="Settings">
      <header class="bar">
        <button class="icon back" aria-label="Back" onClick={() => go()}>
          <Icon name="back" />
        </button>
        <h1 class="bar-title">Settings</h1>
      </header>
      <div class="page-body">
        {err && (
          <p class="error" role="alert">
            {err}
          </p>
        )}
        {note && <p role="status">{note}</p>}
        <section class="card-section" aria-labelledby="profile-h">
          <h3 id="profile-h">Profile</h3>
          <p>
            <strong>{acct.name}</strong> · {acct.phone} · device {acct.device}
            {acct.primary ? ' (primary)' : ' (linked)'}
          </p>
          <ProfileEditor />
          <form
            class="row"
            onSubmit={(e) => {
              e.preventDefault()
              run(() => P().setUsername(username.trim().replace(/^@/, '')), 'Username saved.')
            }}
          >
            <input aria-label="Username" placeholder="username" value={username} onInput={(e) => setUsername(e.currentTarget.value)} />
            <button type="submit">Set username</button>
          </form>
        </section>

        <section class="card-section" aria-labelledby="privacy-h">
          <h3 id="privacy-h">Privacy</h3>
          <form
            onSubmit={(e) => {
              e.preventDefault()
              run(async () => {
                await P().setPrivacy({ findByPhone: findBy, lastSeen })
                await P().setGroupAddPrivacy(groupAdd)
              }, 'Privacy saved.')
            }}
          >
            {(
              [
                ['Who can find me by phone number', findBy, setFindBy],
                ['Who can see my last seen', lastSeen, setLastSeen],
                ['Who can add me to groups', groupAdd, setGroupAdd],
              ] as [string, Visibility, (v: Visibility) => void][]
            ).map(([label, v, set]) => (
              <label key={label}>
                {label}
                <select value={v} onChange={(e) => set(e.currentTarget.value as Visibility)}>
                  <option value="everyone">Everyone</option>
                  <option value="contacts">My contacts</option>
                  <option value="nobody">Nobody</option>
                </select>
              </label>
            ))}
            <button type="submit">Save privacy</button>
          </form>
          <form
            class="row"
            onSubmit={(e) => {
              e.preventDefault()
              run(() => P().setPIN(pin, oldPin || undefined), pin ? 'Two-step PIN set.' : 'Two-step PIN removed.')
            }}
          >
            <input type="password" inputMode="numeric" aria-label="Current two-step PIN (if set)" placeholder="current PIN" value={oldPin} onInput={(e) => setOldPin(e.currentTarget.value)} />
            <input type="password" inputMode="numeric" aria-label="New two-step PIN (empty removes it)" placeholder="new PIN" value={pin} onInput={(e) => setPin(e.currentTarget.value)} />
            <button type="submit">Set PIN</button>
          </form>
        </section>

        <section class="card-section" aria-labelledby="devices-h">
          <h3 id="devices-h">Linked devices</h3>
          <ul class="members">
            {devices.map((d) => (
              <li key={d.device} class="member">
                <span>
                  {d.name || `Device ${d.device}`}
                  {d.primary ? ' · primary' : ''}
                  {d.device === acct.device ? ' · this browser' : ''}
                  {d.revoked ? ' · removed' : ''}
                </span>
                {!d.revoked && d.device !== acct.device && (
                  <button class="danger" aria-label={`Remove device ${d.device}`} onClick={() => run(async () => (await P().removeDevice(d.device), loadDevices()))}>
                    Remove
                  </button>
                )}
              </li>
            ))}
          </ul>
          {acct.primary && (
            <button onClick={() => run(async () => setLink(await P().linkCode()))}>Link a device</button>
          )}
          {link && (
            <div class="linkcode">
              <p>
                Scan this code with the new device's camera (it opens this server's web app ready to link), or there choose “Link this browser to an
                existing account” and enter <strong class="code">{link.code}</strong>. Valid {Math.round(link.expiresInMs / 60000)} min, once.
              </p>
              <QR text={`${status.serverUrl}/#/link/${encodeURIComponent(link.code)}`} label={`QR code of link code ${link.code}`} />
            </div>
          )}
        </section>

        <BackupSettings />

        {invites.length > 0 && (
          <section class="card-section" aria-labelledby="inv-h">
            <h3 id="inv-h">Group invitations</h3>
            <ul class="members">
              {invites.map((i) => (
                <li key={i.group} class="member">
                  <span>{i.name}</span>
                  <span class="row">
                    <button class="primary" onClick={() => run(async () => go('chat', (await P().acceptGroupInvitation(i.group)).id))}>
                      Accept
                    </button>
                    <button onClick={() => run(async () => (await P().declineGroupInvitation(i.group), setInvites(invites.filter((x) => x !== i))))}>Decline</button>
                  </span>
                </li>
              ))}
            </ul>
          </section>
        )}

        <section class="card-section" aria-labelledby="look-h">
          <h3 id="look-h">Appearance and notifications</h3>
          <label>
            Theme
            <select
              value={theme}
              onChange={(e) => {
                const t = e.currentTarget.value as Theme
                setTheme(t)
                applyTheme(t)
              }}
            >
              <option value="system">System</option>
              <option value="light">Light</option>
              <option value="dark">Dark</option>
            </select>
          </label>
          <button onClick={() => run(enablePush, 'Notifications are on. They say only “New message”; the text stays encrypted.')}>Turn on notifications</button>
        </section>
        <p class="muted">Parley {P().version}</p>
      </div>
    </section>
  )
}
