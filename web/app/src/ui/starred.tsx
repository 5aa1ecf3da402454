import { useEffect, useState } from 'preact/hooks'
import { Icon } from './icons'
import type { SearchHit } from '../core/api'
import { errText, go, listTime, P } from './lib'

/** Starred messages of every chat, on this device: the most recently starred first. */
export function Starred() {
  const [hits, setHits] = useState<SearchHit[] | null>(null)
  const [err, setErr] = useState('')
  const load = () =>
    P()
      .starred()
      .then(setHits)
      .catch((e) => setErr(errText(e)))
  useEffect(() => {
    load()
  }, [])
  const unstar = async (h: SearchHit) => {
    try {
      await P().star(h.message.id, false)
      load()
    } catch (e) {
      setErr(errText(e))
    }
  }
  return (
    <section class="starred" aria-label="Starred messages">
      <header class="bar">
        <button class="icon back" aria-label="Back to chats" onClick={() => go()}>
          <Icon name="back" />
        </button>
        <h2 class="bar-title">Starred messages</h2>
      </header>
      {err && (
        <p class="error" role="alert">
          {err}
        </p>
      )}
      {hits && hits.length === 0 && <p class="muted pad">No starred messages. Star one from a message's menu.</p>}
      <ul class="chats" aria-label="Starred">
        {(hits ?? []).map((h) => (
          <li key={h.message.id} class="chat-row">
            <button class="chat-open" onClick={() => go('chat', h.chat, 'm', String(h.message.seq))}>
              <span class="chat-main">
                <span class="chat-top">
                  <span class="chat-title">{h.chatTitle}</span>
                  <span class="chat-time">{listTime(h.message.sentAt)}</span>
                </span>
                <span class="chat-last">{h.message.text || `[${h.message.kind}]`}</span>
              </span>
            </button>
            <button class="icon" aria-label={`Unstar: ${h.message.text || h.message.kind}`} onClick={() => unstar(h)}>
              ★
            </button>
          </li>
        ))}
      </ul>
    </section>
  )
}
