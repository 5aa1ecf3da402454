import { useState } from 'preact/hooks'
import { RestoreStep } from './backup'
import { errText, P } from './lib'

type Step = 'phone' | 'code' | 'link' | 'restore'

/** Register with a phone number and code, or link this browser to an account. */
export function Onboarding({ onDone, pendingPhone }: { onDone: () => void; pendingPhone?: string }) {
  // A registration started before a reload continues at the code step.
  // The QR code of Settings → Linked devices opens <server>/#/link/<code>.
  const linkFromURL = /^#\/link\/([^/]+)$/.exec(location.hash)?.[1]
  const [step, setStep] = useState<Step>(linkFromURL ? 'link' : pendingPhone ? 'code' : 'phone')
  const [phone, setPhone] = useState('')
  const [name, setName] = useState('')
  const [code, setCode] = useState(linkFromURL ? decodeURIComponent(linkFromURL) : '')
  const [pin, setPin] = useState('')
  const [needPin, setNeedPin] = useState(false)
  const [busy, setBusy] = useState(false)
  const [err, setErr] = useState('')
  const [sentTo, setSentTo] = useState(pendingPhone ?? '')

  const run = async (f: () => Promise<void>) => {
    setBusy(true)
    setErr('')
    try {
      await f()
    } catch (e) {
      const msg = errText(e)
      if (/pin/i.test(msg)) setNeedPin(true)
      setErr(msg)
    } finally {
      setBusy(false)
    }
  }

  return (
    <div class="onboarding">
      <div class="card">
        <img src="/icon.svg" alt="" width={64} height={64} />
        <h1>Welcome to Parley</h1>
        <p class="muted">Your messages are encrypted on this device. The server never sees them.</p>
        {step === 'phone' && (
          <form
            onSubmit={(e) => {
              e.preventDefault()
              run(async () => {
                const r = await P().register(phone.trim(), name.trim())
                setSentTo(r.phone)
                setStep('code')
              })
            }}
          >
            <label>
              Phone number
              <input
                name="phone"
                type="tel"
                autoComplete="tel"
                placeholder="+44 7700 900123"
                required
                value={phone}
                onInput={(e) => setPhone(e.currentTarget.value)}
              />
            </label>
            <label>
              Your name
              <input name="name" autoComplete="name" required value={name} onInput={(e) => setName(e.currentTarget.value)} />
            </label>
            <button class="primary" type="submit" disabled={busy}>
              Send code
            </button>
            <button type="button" class="link" onClick={() => setStep('link')}>
              Link this browser to an existing account
            </button>
          </form>
        )}
        {step === 'code' && (
          <form
            onSubmit={(e) => {
              e.preventDefault()
              run(async () => {
                await P().verify(code.trim(), pin || undefined)
                // A number registered again (a new or lost phone) may have a backup to restore.
                const backup = await P().backupOnServer().catch(() => null)
                if (backup?.exists) setStep('restore')
                else onDone()
              })
            }}
          >
            <p>We sent a code to {sentTo}.</p>
            <label>
              Verification code
              <input
                name="code"
                inputMode="numeric"
                autoComplete="one-time-code"
                required
                value={code}
                onInput={(e) => setCode(e.currentTarget.value)}
              />
            </label>
            {needPin && (
              <label>
                Two-step PIN
                <input name="pin" type="password" inputMode="numeric" value={pin} onInput={(e) => setPin(e.currentTarget.value)} />
              </label>
            )}
            <button class="primary" type="submit" disabled={busy}>
              Verify
            </button>
            <button type="button" class="link" onClick={() => setStep('phone')}>
              Use another number
            </button>
          </form>
        )}
        {step === 'link' && (
          <form
            onSubmit={(e) => {
              e.preventDefault()
              run(async () => {
                await P().linkDevice(code.trim())
                if (linkFromURL) location.hash = '#/'
                onDone()
              })
            }}
          >
            <p>On your phone or another device, open Settings → Linked devices → Link a device, and enter the code shown there.</p>
            <label>
              Link code
              <input name="linkcode" required value={code} onInput={(e) => setCode(e.currentTarget.value)} />
            </label>
            <button class="primary" type="submit" disabled={busy}>
              Link this browser
            </button>
            <button type="button" class="link" onClick={() => setStep('phone')}>
              Register a new account instead
            </button>
          </form>
        )}
        {step === 'restore' && <RestoreStep onDone={onDone} />}
        {busy && <p role="status">Working…</p>}
        {err && (
          <p class="error" role="alert">
            {err}
          </p>
        )}
      </div>
    </div>
  )
}
