// People's faces and names: the avatar with a profile photo, one's own
// profile editor (name, about, photo and who may see it), and someone's
// "about" line. Photos are fetched once per page load; the server hands
// them only to those their owner allows (docs/decisions/0005-profile-photos.md).
import { useEffect, useRef, useState } from 'preact/hooks'
import type { Profile, UserId, Visibility } from '../core/api'
import { Icon } from './icons'
import { errText, forgetName, P } from './lib'

const photos = new Map<UserId, Promise<string | null>>()

/** A user's photo as a data: URL (null: none, or hidden from us). */
export function usePhoto(user: UserId | undefined): string | null {
  const [url, setUrl] = useState<string | null>(null)
  useEffect(() => {
    if (!user) return
    let live = true
    let p = photos.get(user)
    if (!p) {
      p = P()
        .profilePhoto(user)
        .catch(() => null)
      photos.set(user, p)
    }
    p.then((u) => live && setUrl(u))
    return () => {
      live = false
    }
  }, [user])
  return user ? url : null
}

/** Forget a user's photo (after it changed) so the next render fetches it again. */
export function forgetPhoto(user: UserId) {
  photos.delete(user)
}

const refreshed = new Set<UserId>()

/**
 * Once per page load per person, when their direct chat opens, ask the
 * server for their profile (which also refreshes the name this device
 * keeps), so a name they changed shows; onTitle gets the new title.
 */
export function useFreshName(peer: UserId | undefined, title: string | undefined, onTitle: (title: string) => void) {
  useEffect(() => {
    if (!peer || refreshed.has(peer)) return
    refreshed.add(peer)
    P()
      .profile(String(peer))
      .then((p) => {
        if (p.title && p.title !== title) {
          forgetName(peer)
          onTitle(p.title)
          dispatchEvent(new Event('parley:chats'))
        }
      })
      .catch(() => {})
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [peer])
}

/** The round avatar of a person (their photo, else their initial) or a group. */
export function Avatar({ user, title, big, small, alt }: { user?: UserId; title: string; big?: boolean; small?: boolean; alt?: string }) {
  const url = usePhoto(user)
  const initial = (title || '?').replace(/^@/, '').slice(0, 1).toUpperCase()
  return (
    <span class={'avatar' + (big ? ' big' : small ? ' small' : '')} aria-hidden={url && alt ? undefined : 'true'}>
      {url ? <img src={url} alt={alt ?? ''} /> : /^[+0-9]/.test(initial) ? <Icon name="person" size={big ? 52 : small ? 18 : 26} /> : initial}
    </span>
  )
}

/** Scale an image file to a JPEG of at most 320 px a side and 60 KB (the server takes 64 KiB), as base64. */
export async function photoJPEG(file: Blob): Promise<string> {
  const bmp = await createImageBitmap(file)
  const scale = Math.min(1, 320 / Math.max(bmp.width, bmp.height))
  const canvas = document.createElement('canvas')
  canvas.width = Math.max(1, Math.round(bmp.width * scale))
  canvas.height = Math.max(1, Math.round(bmp.height * scale))
  canvas.getContext('2d')!.drawImage(bmp, 0, 0, canvas.width, canvas.height)
  bmp.close()
  for (const q of [0.85, 0.7, 0.5, 0.3]) {
    const url = canvas.toDataURL('image/jpeg', q)
    const b64 = url.slice(url.indexOf(',') + 1)
    if (b64.length * 0.75 <= 60_000) return b64
  }
  throw new Error('This image does not make a small enough photo.')
}

/** Someone's "about" line, as the server lets us see their profile. */
export function AboutLine({ who }: { who: string }) {
  const [p, setP] = useState<Profile | null>(null)
  useEffect(() => {
    let live = true
    P()
      .profile(who)
      .then((x) => live && setP(x))
      .catch(() => {})
    return () => {
      live = false
    }
  }, [who])
  if (!p?.about) return null
  return (
    <p class="about" aria-label="About">
      {p.about}
    </p>
  )
}

/** This user's profile: photo, name, about, and who can see the photo. */
export function ProfileEditor() {
  const [me, setMe] = useState<Profile | null>(null)
  const [name, setName] = useState('')
  const [about, setAbout] = useState('')
  const [who, setWho] = useState<Visibility>('everyone')
  const [note, setNote] = useState('')
  const [err, setErr] = useState('')
  const file = useRef<HTMLInputElement>(null)
  const load = () =>
    P()
      .profile('')
      .then((p) => {
        setMe(p)
        setName(p.name)
        setAbout(p.about)
      })
      .catch((e) => setErr(errText(e)))
  useEffect(() => {
    load()
  }, [])
  const run = async (f: () => Promise<unknown>, ok: string) => {
    setErr('')
    setNote('')
    try {
      await f()
      if (me) forgetPhoto(me.user)
      await load()
      setNote(ok)
    } catch (e) {
      setErr(errText(e))
    }
  }
  if (!me) return err ? <p class="error">{err}</p> : null
  return (
    <div class="profile-editor">
      <div class="row">
        <Avatar key={me.photoTag} user={me.photoTag ? me.user : undefined} title={me.title} big alt="Your profile photo" />
        <div>
          <input
            ref={file}
            type="file"
            accept="image/*"
            hidden
            aria-hidden="true"
            tabIndex={-1}
            onChange={(e) => {
              const f = e.currentTarget.files?.[0]
              e.currentTarget.value = ''
              if (f) run(async () => P().setProfilePhoto(await photoJPEG(f)), 'Profile photo saved.')
            }}
          />
          <button type="button" onClick={() => file.current?.click()}>
            {me.photoTag ? 'Change photo' : 'Add photo'}
          </button>
          {me.photoTag && <button onClick={() => run(() => P().removeProfilePhoto(), 'Profile photo removed.')}>Remove photo</button>}
        </div>
      </div>
      <form
        class="row"
        onSubmit={(e) => {
          e.preventDefault()
          run(() => P().setProfileName(name), 'Name saved.')
        }}
      >
        <input aria-label="Your name" maxLength={64} value={name} onInput={(e) => setName(e.currentTarget.value)} />
        <button type="submit">Save name</button>
      </form>
      <form
        class="row"
        onSubmit={(e) => {
          e.preventDefault()
          run(() => P().setAbout(about), 'About saved.')
        }}
      >
        <input aria-label="About" placeholder="about" maxLength={140} value={about} onInput={(e) => setAbout(e.currentTarget.value)} />
        <button type="submit">Save about</button>
      </form>
      <form
        class="row"
        onSubmit={(e) => {
          e.preventDefault()
          run(() => P().setPhotoPrivacy(who), 'Photo privacy saved.')
        }}
      >
        <label>
          Who can see my photo
          <select value={who} onChange={(e) => setWho(e.currentTarget.value as Visibility)}>
            <option value="everyone">Everyone</option>
            <option value="contacts">My contacts</option>
            <option value="nobody">Nobody</option>
          </select>
        </label>
        <button type="submit">Save photo privacy</button>
      </form>
      {err && (
        <p class="error" role="alert">
          {err}
        </p>
      )}
      {note && <p role="status">{note}</p>}
    </div>
  )
}
