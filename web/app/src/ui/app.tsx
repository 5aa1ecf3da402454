import { useEffect, useState } from 'preact/hooks'
import type { Status } from '../core/api'
import { ChatList } from './chatlist'
import { Conversation } from './conversation'
import { ChatInfo, ContactInfo } from './info'
import { go, P, setSelf, useEvents, useRoute } from './lib'
import { OperatorPage } from './moderation'
import { NewChat } from './newchat'
import { Onboarding } from './onboarding'
import { Settings } from './settings'
import { Starred } from './starred'
import { Status as StatusScreen } from './status'

export function App() {
  const [status, setStatus] = useState<Status | null>(null)
  const refresh = () =>
    P()
      .status()
      .then((s) => {
        setSelf(s.account?.user ?? 0)
        setStatus(s)
      })
  useEffect(() => {
    refresh()
  }, [])
  useEvents(
    (ev) => {
      if (ev.kind === 'connection') setStatus((s) => (s ? { ...s, connected: ev.connected } : s))
    },
    [],
  )
  // The service worker asks to open a chat when a notification is clicked.
  useEffect(() => {
    const on = (e: MessageEvent) => {
      if (e.data?.type === 'open' && e.data.conversation) go('chat', e.data.conversation)
    }
    navigator.serviceWorker?.addEventListener('message', on)
    return () => navigator.serviceWorker?.removeEventListener('message', on)
  }, [])

  if (!status) return <div class="boot" role="status">Starting Parley…</div>
  if (!status.registered) return <Onboarding onDone={refresh} pendingPhone={status.account?.phone || undefined} />
  return <Main status={status} />
}

function Main({ status }: { status: Status }) {
  const route = useRoute()
  const [section, id, sub] = route
  let pane = null
  if (section === 'chat' && id) {
    pane = sub === 'info' ? <ChatInfo chat={id} /> : <Conversation key={id} chat={id} />
  } else if (section === 'contact' && id) {
    pane = <ContactInfo who={id} />
  } else if (section === 'new') {
    pane = <NewChat mode={id || 'chat'} />
  } else if (section === 'settings') {
    pane = <Settings status={status} />
  } else if (section === 'starred') {
    pane = <Starred />
  } else if (section === 'operator') {
    pane = <OperatorPage />
  } else if (section === 'status') {
    pane = <StatusScreen who={id} />
  }
  return (
    <div class={'layout' + (pane ? ' has-pane' : '')}>
      {!status.connected && (
        <div class="offline" role="status">
          Connecting…
        </div>
      )}
      <aside class="sidebar" aria-label="Chats">
        <ChatList active={section === 'chat' ? id : undefined} me={status.account!} />
      </aside>
      <main class="pane">
        {pane ?? (
          <div class="empty-pane">
            <img src="/icon.svg" alt="" width={96} height={96} />
            <h1>Parley</h1>
            <p>Messages are end-to-end encrypted on this device. Pick a chat or start a new one.</p>
          </div>
        )}
      </main>
    </div>
  )
}
