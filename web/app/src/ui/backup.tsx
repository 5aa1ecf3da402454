import { useEffect, useState } from 'preact/hooks'
import type { BackupRestored, BackupStatus } from '../core/api'
import { errText, P, sizeText } from './lib'

const count = (n: number, one: string) => `${n} ${one}${n === 1 ? '' : 's'}`

/**
 * The recovery key, shown once: the user writes it down and confirms before
 * going on. Nothing shows it again (the browser keeps it for its own later
 * backups, but a new device needs it from the user).
 */
function RecoveryKeyStep({ keyText, onDone }: { keyText: string; onDone: () => void }) {
  const [written, setWritten] = useState(false)
  return (
    <div class="recovery-key" role="group" aria-labelledby="rk-h">
      <h4 id="rk-h">Write down your recovery key</h4>
      <p>
        Your backup is encrypted with this key. Parley shows it only now, and nobody, not even the server, can open your backup without it.
        Write it down and keep it somewhere safe: you need it to restore your chats on a new device.
      </p>
      <p class="safety" aria-label="Recovery key">
        {keyText}
      </p>
      <label class="check">
        <input type="checkbox" checked={written} onChange={(e) => setWritten(e.currentTarget.checked)} /> I have written down my recovery key
      </label>
      <button class="primary" disabled={!written} onClick={onDone}>
        Done
      </button>
    </div>
  )
}

function lastText(s: BackupStatus): string {
  if (!s.lastAt) return 'No backup yet.'
  return `Last backup: ${new Date(s.lastAt).toLocaleString()} · ${sizeText(s.lastBytes)}`
}

/** Settings → Backup: back up now, daily backups, the last backup. */
export function BackupSettings() {
  const [st, setSt] = useState<BackupStatus | null>(null)
  const [newKey, setNewKey] = useState('')
  const [busy, setBusy] = useState(false)
  const [err, setErr] = useState('')
  const [note, setNote] = useState('')
  useEffect(() => {
    P()
      .backupStatus()
      .then(setSt)
      .catch((e) => setErr(errText(e)))
  }, [])

  const run = async <T extends BackupStatus>(f: () => Promise<T>, ok: (s: T) => string) => {
    setBusy(true)
    setErr('')
    setNote('')
    try {
      const s = await f()
      setSt(s)
      if (s.recoveryKey) setNewKey(s.recoveryKey)
      setNote(ok(s))
    } catch (e) {
      setErr(errText(e))
    } finally {
      setBusy(false)
    }
  }

  return (
    <section class="card-section" aria-labelledby="backup-h">
      <h3 id="backup-h">Backup</h3>
      <p class="muted">
        Your chats, messages and contacts, end-to-end encrypted in this browser and kept on the server, which cannot read them. Restore them on a new device
        with your recovery key.
      </p>
      {st && <p>{lastText(st)}</p>}
      {st?.lastError && (
        <p class="error" role="alert">
          The last daily backup failed: {st.lastError}
        </p>
      )}
      {newKey ? (
        <RecoveryKeyStep keyText={newKey} onDone={() => setNewKey('')} />
      ) : (
        <>
          <button
            disabled={busy}
            onClick={() => run(() => P().backupCreate(), (s) => `Backed up ${count(s.chats, 'chat')} and ${count(s.messages, 'message')} (${sizeText(s.lastBytes)}).`)}
          >
            Back up now
          </button>
          <label class="check">
            <input
              type="checkbox"
              checked={!!st?.daily}
              disabled={busy || !st}
              onChange={(e) => {
                const on = e.currentTarget.checked
                run(() => P().backupSetDaily(on), () => (on ? 'Daily backups are on while Parley is open.' : 'Daily backups are off.'))
              }}
            />{' '}
            Back up daily
          </label>
        </>
      )}
      {busy && <p role="status">Backing up…</p>}
      {note && !busy && <p role="status">{note}</p>}
      {err && (
        <p class="error" role="alert">
          {err}
        </p>
      )}
    </section>
  )
}

/**
 * The restore step of onboarding, after a fresh registration when the
 * account has a backup on the server: the recovery key brings the chats back
 * (and the device rejoins them); "Skip" starts with no history.
 */
export function RestoreStep({ onDone }: { onDone: () => void }) {
  const [key, setKey] = useState('')
  const [busy, setBusy] = useState(false)
  const [err, setErr] = useState('')
  const [done, setDone] = useState<BackupRestored | null>(null)
  if (done) {
    return (
      <div>
        <p role="status">
          Restored {count(done.chats, 'chat')} and {count(done.messages, 'message')} from your backup of {new Date(done.createdAt).toLocaleString()}.
          {done.skippedChats > 0 && ` ${count(done.skippedChats, 'chat')} could not be rejoined.`}
        </p>
        <button class="primary" onClick={onDone}>
          Continue
        </button>
      </div>
    )
  }
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault()
        setBusy(true)
        setErr('')
        P()
          .backupRestore(key)
          .then(setDone)
          .catch((e) => setErr(errText(e)))
          .finally(() => setBusy(false))
      }}
    >
      <h2>Restore from backup</h2>
      <p>This account has a backup on the server. Enter your recovery key (64 characters) to bring back your chats and their history.</p>
      <label>
        Recovery key
        <textarea name="recoverykey" rows={3} required autoComplete="off" spellcheck={false} value={key} onInput={(e) => setKey(e.currentTarget.value)} />
      </label>
      <button class="primary" type="submit" disabled={busy}>
        Restore
      </button>
      <button type="button" class="link" disabled={busy} onClick={onDone}>
        Skip, start without my history
      </button>
      {busy && <p role="status">Restoring…</p>}
      {err && (
        <p class="error" role="alert">
          {err}
        </p>
      )}
    </form>
  )
}
