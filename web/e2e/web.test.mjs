// End-to-end tests of the browser client in a real browser (Debian's Chromium,
// driven by playwright-core) against a real `parley serve` with the built app
// embedded. Every browser context is a device of its own: the Go client core
// runs as WebAssembly in the page and keeps its state in IndexedDB.
//
// The five scenarios of the issue, in order (later ones reuse the people the
// earlier ones registered, as a person would):
//   1. two browsers register and chat both ways, with ticks sent → delivered → read
//   2. a browser and a CLI user chat with each other
//   3. an image sent from one browser is decrypted and shown in the other
//   4. a group with an invite link that a third browser joins
//   5. reload: chats, messages and media are still there (state in IndexedDB)
// Each saves a screenshot to web/e2e/screenshots/.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { mkdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { cli, cliProfile, here, launch, parleyBinary, person, register, shot, startServer } from './harness.mjs'

const PHONES = { alice: '+14155550141', bob: '+14155550142', carol: '+14155550143', dave: '+14155550144', erin: '+14155550145', frank: '+14155550146', gina: '+14155550147', hank: '+14155550148', ivy: '+14155550149', jack: '+14155550150', kate: '+14155550151', olga: '+14155550155', lena: '+14155550152', mike: '+14155550153', nora: '+14155550154' }

let bin, server, browser
const people = {}
// The hash route of alice's chat with bob (#/chat/<id>).
let aliceBob = ''

before(async () => {
  bin = await parleyBinary()
  server = await startServer(bin)
  browser = await launch()
})

after(async () => {
  await browser?.close()
  await server?.stop()
  await server2?.stop()
})

// Show the browser console of everyone when a step fails.
async function step(what, f) {
  try {
    return await f()
  } catch (e) {
    // What each page showed, for the failure message.
    const dir = join(tmpdir(), 'parley-web-failures')
    mkdirSync(dir, { recursive: true })
    for (const p of Object.values(people)) await p.page.screenshot({ path: join(dir, `${p.name}.png`) }).catch(() => {})
    const logs = Object.values(people)
      .flatMap((p) => p.logs.slice(-30))
      .join('\n')
    e.message = `${what}: ${e.message}\n(screenshots of every page in ${dir})\n--- browser console ---\n${logs}\n--- server log (tail) ---\n${server.log().split('\n').slice(-30).join('\n')}`
    throw e
  }
}

// The shared server's limit of verification codes per address (10 an hour)
// is spent by the first nine people; the people of later tests register on
// a second server of their own.
const LATER = new Set(['jack', 'kate', 'olga', 'lena', 'mike', 'nora'])
let server2

async function serverOf(name) {
  if (!LATER.has(name)) return server
  server2 ??= await startServer(bin)
  return server2
}

async function registered(name) {
  if (!people[name]) {
    const srv = await serverOf(name)
    const p = await person(browser, srv, name[0].toUpperCase() + name.slice(1))
    people[name] = p
    await step(`register ${name}`, () => register(p, srv, PHONES[name]))
  }
  return people[name]
}

function msg(page, dir, text) {
  return page.locator(`.msg.${dir}`, { hasText: text }).last()
}

async function openChat(page, text) {
  await page.locator('.chat-row', { hasText: text }).first().getByRole('button', { name: /^Open chat/ }).click()
  await page.getByRole('log', { name: 'Messages' }).waitFor()
}

async function newChat(page, to, text) {
  await page.getByRole('button', { name: 'New chat' }).click()
  await page.getByLabel('Phone number or @username').fill(to)
  await page.getByLabel('First message').fill(text)
  await page.getByRole('button', { name: 'Start chat' }).click()
  await msg(page, 'out', text).waitFor()
}

async function expectStatus(locator, status, timeout = 30000) {
  await locator.and(locator.page().locator(`[data-status="${status}"]`)).waitFor({ timeout })
}

test('two browsers register and chat both ways with receipts', async () => {
  const alice = await registered('alice')
  const bob = await registered('bob')
  const a = alice.page
  const b = bob.page

  await step('alice starts a chat with bob by phone', () => newChat(a, PHONES.bob, 'Hi Bob, it is Alice'))
  aliceBob = new URL(a.url()).hash
  const first = msg(a, 'out', 'Hi Bob, it is Alice')
  // Bob's page is open, so his device receives it at once: delivered.
  await step('alice sees delivered', () => expectStatus(first, 'delivered'))

  await step('bob sees the chat with one unread', async () => {
    const row = b.locator('.chat-row', { hasText: 'Hi Bob, it is Alice' })
    await row.getByLabel('1 unread', { exact: true }).waitFor()
  })
  await shot(b, '01-chat-list-unread')
  await step('bob opens the chat', () => openChat(b, 'Hi Bob, it is Alice'))
  await msg(b, 'in', 'Hi Bob, it is Alice').waitFor()
  await step('alice sees read (blue ticks)', async () => {
    await expectStatus(first, 'read')
    await first.getByLabel('Read').waitFor()
  })

  await step('bob replies with Enter', async () => {
    const box = b.getByRole('textbox', { name: 'Message' })
    await box.fill('Hello Alice! Nice to see you here')
    await box.press('Enter')
    await msg(b, 'out', 'Hello Alice!').waitFor()
  })
  await step('alice receives the reply', () => msg(a, 'in', 'Hello Alice!').waitFor())
  // Alice has the chat open and visible, so she reads it at once.
  await step('bob sees read', () => expectStatus(msg(b, 'out', 'Hello Alice!'), 'read'))
  await shot(a, '02-conversation-receipts')
  await shot(b, '03-conversation-bob')
  assert.equal(await a.locator('.msg.out .tick.read').count() >= 1, true)
  // Ticks are images named by status, for screen readers.
  await a.getByRole('img', { name: 'Read' }).first().waitFor()
})

// Not one of the five scenarios, but the screens they do not reach: the
// message menu (react, reply, edit, delete for everyone) and polls, each seen
// arriving on the other browser.
test('reactions, replies, edits, deletes and polls reach the other browser', async () => {
  const a = (await registered('alice')).page
  const b = (await registered('bob')).page
  a.on('dialog', (d) => d.accept())
  const menuOf = (page, bubble) => bubble.getByRole('button', { name: /^Options for / })
  await step("bob is not offered to delete alice's message for everyone", async () => {
    // Only one's own messages (or anyone's, as a group admin) can be deleted
    // for everyone; the menu names the message it belongs to.
    await b.getByRole('button', { name: /^Options for message from .+: Hi Bob, it is Alice$/ }).click()
    await b.getByRole('menuitem', { name: 'Reply' }).waitFor()
    assert.equal(await b.getByRole('menuitem', { name: 'Delete for everyone' }).count(), 0)
    await b.keyboard.press('Escape')
    await b.getByRole('menuitem', { name: 'Reply' }).waitFor({ state: 'detached' })
  })
  await step('bob reacts with a thumbs up', async () => {
    await menuOf(b, msg(b, 'in', 'Hi Bob, it is Alice')).click()
    await b.getByRole('menuitem', { name: 'React 👍' }).click()
    await msg(a, 'out', 'Hi Bob, it is Alice').locator('.reaction', { hasText: '👍' }).waitFor()
  })
  await step('alice replies to bob', async () => {
    await menuOf(a, msg(a, 'in', 'Hello Alice!')).click()
    await a.getByRole('menuitem', { name: 'Reply' }).click()
    const box = a.getByRole('textbox', { name: 'Message' })
    await box.fill('Replying to you')
    await box.press('Enter')
    await msg(b, 'in', 'Replying to you').locator('.quote', { hasText: 'Hello Alice!' }).waitFor()
  })
  await step('alice edits her reply', async () => {
    await menuOf(a, msg(a, 'out', 'Replying to you')).click()
    await a.getByRole('menuitem', { name: 'Edit' }).click()
    const box = a.getByRole('textbox', { name: 'Message' })
    await box.fill('Replying to you, edited')
    await box.press('Enter')
    const edited = msg(b, 'in', 'Replying to you, edited')
    await edited.locator('.edited').waitFor()
  })
  await step('alice deletes a message for everyone', async () => {
    const box = a.getByRole('textbox', { name: 'Message' })
    await box.fill('Oops, wrong chat')
    await box.press('Enter')
    await msg(b, 'in', 'Oops, wrong chat').waitFor()
    await menuOf(a, msg(a, 'out', 'Oops, wrong chat')).click()
    await a.getByRole('menuitem', { name: 'Delete for everyone' }).click()
    await b.locator('.msg.in .deleted', { hasText: 'This message was deleted' }).waitFor()
    assert.equal(await b.locator('.msg', { hasText: 'Oops, wrong chat' }).count(), 0)
  })
  await step('alice asks a poll and bob votes', async () => {
    await a.getByRole('button', { name: 'Create a poll' }).click()
    await a.getByLabel('Question').fill('Lunch?')
    await a.getByLabel('Option 1', { exact: true }).fill('Pizza')
    await a.getByLabel('Option 2', { exact: true }).fill('Sushi')
    await a.getByRole('button', { name: 'Send poll' }).click()
    // Its creator sees the options and their counts at once, before any vote.
    const own = a.getByRole('group', { name: 'Poll: Lunch?' })
    await own.getByRole('button', { name: /Pizza\s*0/ }).waitFor()
    await own.getByRole('button', { name: /Sushi\s*0/ }).waitFor()
    const poll = b.getByRole('group', { name: 'Poll: Lunch?' })
    await poll.getByRole('button', { name: /Pizza/ }).click()
    await a.getByRole('group', { name: 'Poll: Lunch?' }).getByRole('button', { name: /Pizza\s*1/ }).waitFor()
  })
  await shot(b, '03b-kinds')
})

test('a browser and a CLI user chat with each other', async () => {
  const alice = await registered('alice')
  const a = alice.page
  const carol = cliProfile('carol')
  await step('carol registers on the CLI', async () => {
    await cli(bin, carol, ['account', 'register', '--server', server.url, '--phone', PHONES.carol, '--name', 'Carol'])
    const code = await server.code(PHONES.carol)
    await cli(bin, carol, ['account', 'verify', '--code', code])
  })
  await step('alice writes to carol from the browser', () => newChat(a, PHONES.carol, 'Hello Carol, from the browser'))
  const got = await step('carol receives it on the CLI', () => cli(bin, carol, ['listen', '--count', '1', '--for', '40s'], 60000))
  const m = got.find((x) => x.event === 'message')
  assert.ok(m, `carol got no message: ${JSON.stringify(got)}`)
  assert.equal(m.text, 'Hello Carol, from the browser')
  await step('carol replies from the CLI', () => cli(bin, carol, ['send', '--to', PHONES.alice, 'Hi Alice, from the terminal']))
  await step('alice sees the reply', () => msg(a, 'in', 'Hi Alice, from the terminal').waitFor())
  await step('carol reads it, alice sees read', async () => {
    await cli(bin, carol, ['read', m.chat])
    await expectStatus(msg(a, 'out', 'Hello Carol, from the browser'), 'read')
  })
  await shot(a, '04-browser-and-cli')
})

test('send and receive an image', async () => {
  const alice = await registered('alice')
  const bob = await registered('bob')
  const a = alice.page
  const b = bob.page
  await step('alice opens the chat with bob', async () => {
    await a.evaluate((h) => (location.hash = h), aliceBob)
    await msg(a, 'in', 'Hello Alice!').waitFor()
  })
  await step('alice picks a photo, sees its preview and adds a caption', async () => {
    const chooser = a.waitForEvent('filechooser')
    await a.getByRole('button', { name: 'Attach a file' }).click()
    await (await chooser).setFiles(join(here, '../app/public/icon-512.png'))
    const preview = a.getByRole('dialog', { name: 'Send icon-512.png' })
    await preview.getByRole('img', { name: 'Preview of icon-512.png' }).waitFor()
    await preview.getByLabel('Caption').fill('Our new logo')
    await preview.getByRole('button', { name: 'Send' }).click()
    await preview.waitFor({ state: 'detached' })
    await a.getByRole('img', { name: 'Our new logo' }).last().waitFor()
  })
  await step('bob sees the decrypted photo with its caption, and the chat list says Photo', async () => {
    const img = b.getByRole('img', { name: 'Our new logo' }).last()
    await img.waitFor()
    // The full image, decrypted on bob's device (not the sender's thumbnail).
    const deadline = Date.now() + 30000
    let natural = 0
    while (Date.now() < deadline) {
      natural = await img.evaluate((el) => (el.complete && el.src.startsWith('blob:') ? el.naturalWidth : 0))
      if (natural === 512) break
      await new Promise((r) => setTimeout(r, 100))
    }
    assert.equal(natural, 512)
    await b.getByText('📷 Our new logo').first().waitFor()
  })
  await step('bob opens it full size and can save it', async () => {
    await b.getByRole('button', { name: 'Open photo Our new logo' }).last().click()
    const viewer = b.getByRole('dialog', { name: 'Photo: Our new logo' })
    const save = viewer.getByRole('link', { name: 'Save' })
    assert.match(await save.getAttribute('href'), /^blob:/)
    await viewer.getByRole('button', { name: 'Close photo' }).click()
    await viewer.waitFor({ state: 'detached' })
  })
  await shot(b, '05-image-received')
})

test('a video is sent with a thumbnail and duration made in the browser', async () => {
  const a = (await registered('alice')).page
  const b = (await registered('bob')).page
  await step('alice opens the chat with bob', async () => {
    await a.evaluate((h) => (location.hash = h), aliceBob)
    await msg(a, 'in', 'Hello Alice!').waitFor()
  })
  // A two-second WebM recorded from a canvas by the browser itself (there
  // is no video file in the repository and no encoder on the machine).
  const webm = await a.evaluate(async () => {
    const c = document.createElement('canvas')
    c.width = 320
    c.height = 240
    const g = c.getContext('2d')
    const rec = new MediaRecorder(c.captureStream(25), { mimeType: 'video/webm' })
    const parts = []
    rec.ondataavailable = (e) => parts.push(e.data)
    const stopped = new Promise((r) => (rec.onstop = r))
    rec.start(100)
    const t0 = performance.now()
    await new Promise((done) => {
      const draw = () => {
        const t = performance.now() - t0
        g.fillStyle = '#0f7b6c'
        g.fillRect(0, 0, 320, 240)
        g.fillStyle = '#fff'
        g.fillRect((t / 10) % 280, 100, 40, 40)
        if (t < 2000) requestAnimationFrame(draw)
        else done()
      }
      draw()
    })
    rec.stop()
    await stopped
    const buf = new Uint8Array(await new Blob(parts, { type: 'video/webm' }).arrayBuffer())
    let s = ''
    for (const x of buf) s += String.fromCharCode(x)
    return btoa(s)
  })
  await step('alice sends it after the preview', async () => {
    const chooser = a.waitForEvent('filechooser')
    await a.getByRole('button', { name: 'Attach a file' }).click()
    await (await chooser).setFiles({ name: 'clip.webm', mimeType: 'video/webm', buffer: Buffer.from(webm, 'base64') })
    const preview = a.getByRole('dialog', { name: 'Send clip.webm' })
    await preview.getByLabel('Caption').fill('A short clip')
    await preview.getByRole('button', { name: 'Send' }).click()
    await a.getByRole('button', { name: /^Play video, 0:0[1-3], / }).last().waitFor()
  })
  await step('bob sees the thumbnail and duration before downloading it', async () => {
    const play = b.getByRole('button', { name: /^Play video, 0:0[1-3], / }).last()
    await play.waitFor()
    const thumb = b.getByRole('img', { name: 'Video thumbnail' }).last()
    await thumb.waitFor()
    const size = await thumb.evaluate((el) => (el.src.startsWith('data:image/jpeg;base64,') ? [el.naturalWidth, el.naturalHeight] : [0, 0]))
    assert.deepEqual(size, [320, 240])
    await b.getByText('🎥 A short clip').first().waitFor()
    await play.click()
    await b.getByLabel('clip.webm').last().waitFor()
  })
  await shot(b, '05b-video-received')
})

test('a voice note recorded in the browser arrives with its duration and waveform', async () => {
  const a = (await registered('alice')).page
  const b = (await registered('bob')).page
  await step('alice records two seconds from the (fake) microphone and sends it', async () => {
    await a.evaluate((h) => (location.hash = h), aliceBob)
    await msg(a, 'in', 'Hello Alice!').waitFor()
    await a.getByRole('button', { name: 'Record a voice note' }).click()
    const stop = a.getByRole('button', { name: 'Stop and send voice note' })
    await stop.waitFor()
    await a.waitForTimeout(2200) // the recording's length: two seconds of the fake microphone's beep
    await stop.click()
    await a.getByRole('button', { name: /^Play voice note, 0:0[2-3]$/ }).last().waitFor()
  })
  await step('bob sees the duration and the waveform before playing it, then plays it', async () => {
    const play = b.getByRole('button', { name: /^Play voice note, 0:0[2-3]$/ }).last()
    await play.waitFor()
    const wave = b.getByRole('img', { name: 'Waveform' }).last()
    await wave.waitFor()
    const bars = await wave.evaluate((el) => [...el.querySelectorAll('rect')].map((r) => Number(r.getAttribute('height'))))
    assert.equal(bars.length, 64)
    assert.ok(Math.max(...bars) > 20, `the beep shows in the waveform: ${bars}`)
    await b.getByText('🎤 Voice message').first().waitFor()
    await play.click()
    await b.getByLabel('Voice note').last().waitFor()
  })
  await shot(b, '05c-voice-note')
})

test('the contact picker opens chats and picks group members; a chat opens before its first message', async () => {
  const a = (await registered('alice')).page
  const b = (await registered('bob')).page
  const f = (await registered('frank')).page
  const bobInList = (page) => page.getByRole('list', { name: 'Contacts' }).getByRole('button', { name: /\+14155550142|@bob|Bob/ })
  await step('alice picks bob from her contacts and lands in their chat', async () => {
    await a.getByRole('button', { name: 'New chat' }).click()
    await bobInList(a).click()
    await msg(a, 'in', 'Hello Alice!').waitFor()
  })
  await step('alice opens a chat with frank by number, without a first message', async () => {
    await a.getByRole('button', { name: 'New chat' }).click()
    await a.getByLabel('Phone number or @username').fill(PHONES.frank)
    await a.getByRole('button', { name: 'Start chat' }).click()
    // The chat with frank is open (its header names him) and empty.
    await a.getByRole('heading', { name: /Frank|14155550146/ }).or(a.locator('.bar-title', { hasText: /Frank|14155550146/ })).first().waitFor()
    await a.getByRole('log', { name: 'Messages' }).waitFor()
    assert.equal(await a.locator('.msg').count(), 0)
    const box = a.getByRole('textbox', { name: 'Message' })
    await box.fill('Hi Frank, from the picker test')
    await box.press('Enter')
  })
  await step('frank receives it', () => f.locator('.chat-row', { hasText: 'Hi Frank, from the picker test' }).first().waitFor())
  await step('alice creates a group with bob ticked in the picker', async () => {
    await a.getByRole('button', { name: 'New chat' }).click()
    await a.getByRole('button', { name: 'Group', exact: true }).click()
    await a.getByLabel('Group name').fill('Picked friends')
    await a.getByLabel('Search contacts').fill('4155550142')
    await a.getByRole('list', { name: 'Contacts' }).getByRole('checkbox').first().check()
    await a.getByRole('button', { name: 'Create group' }).click()
    await a.getByRole('log', { name: 'Messages' }).waitFor()
  })
  await step('bob is in the group', () => b.locator('.chat-row', { hasText: 'Picked friends' }).first().waitFor())
  await shot(a, '05d-picker')
})

test('a group with an invite link that a second browser joins', async () => {
  const alice = await registered('alice')
  await registered('bob')
  const a = alice.page
  await step('alice creates a group with bob', async () => {
    await a.getByRole('button', { name: 'New chat' }).click()
    await a.getByRole('button', { name: 'Group', exact: true }).click()
    await a.getByLabel('Group name').fill('Weekend trip')
    await a.getByLabel(/^Members/).fill(PHONES.bob)
    await a.getByRole('button', { name: 'Create group' }).click()
    await a.getByRole('log', { name: 'Messages' }).waitFor()
  })
  const link = await step('alice creates an invite link', async () => {
    await a.getByRole('button', { name: 'Chat info', exact: true }).click()
    await a.getByRole('heading', { name: 'Weekend trip' }).waitFor()
    await a.getByRole('button', { name: 'Create invite link' }).click()
    const input = a.locator('input.invite-link')
    await input.waitFor()
    return input.inputValue()
  })
  assert.match(link, /join/)
  await shot(a, '06-group-info')
  const dave = await registered('dave')
  const d = dave.page
  await step('dave joins by the link', async () => {
    await d.getByRole('button', { name: 'New chat' }).click()
    await d.getByRole('button', { name: 'Join with link' }).click()
    await d.getByLabel('Invite link').fill(link)
    await d.getByRole('button', { name: 'Join group' }).click()
    await d.getByRole('log', { name: 'Messages' }).waitFor()
  })
  await step('dave writes in the group', async () => {
    const box = d.getByRole('textbox', { name: 'Message' })
    await box.fill('Dave here, thanks for the link')
    await box.press('Enter')
    await msg(d, 'out', 'Dave here').waitFor()
  })
  await step('alice sees dave in the group', async () => {
    await a.getByRole('button', { name: 'Back', exact: true }).click()
    await msg(a, 'in', 'Dave here').waitFor()
    await a.getByRole('heading', { name: /Weekend trip/ }).or(a.locator('.bar-title', { hasText: 'Weekend trip' })).first().waitFor()
  })
  await shot(a, '07-group-conversation')
  await shot(d, '08-group-joined')
})

test('a message is forwarded to two chats at once', async () => {
  const a = (await registered('alice')).page
  const b = (await registered('bob')).page
  await step('alice opens her chat with bob and forwards his message', async () => {
    await a.evaluate((h) => (location.hash = h), aliceBob)
    await a.getByRole('button', { name: /^Options for message from .+: Hello Alice! Nice to see you here$/ }).last().click()
    await a.getByRole('menuitem', { name: 'Forward' }).click()
    const dialog = a.getByRole('dialog', { name: 'Forward message' })
    await dialog.getByRole('checkbox', { name: 'Weekend trip' }).check()
    await dialog.getByRole('checkbox', { name: new RegExp(`^(Carol|${PHONES.carol.replace('+', '\\+')})$`) }).check()
    await dialog.getByRole('button', { name: 'Forward to 2 chats' }).click()
    await dialog.waitFor({ state: 'detached' })
  })
  await step('it is in both chats, marked forwarded, and bob gets it in the group', async () => {
    await a.getByRole('button', { name: new RegExp(`^Open chat (Carol|${PHONES.carol.replace('+', '\\+')})`) }).click()
    await a.getByRole('log', { name: 'Messages' }).getByText('Hello Alice! Nice to see you here').waitFor()
    await a.getByRole('log', { name: 'Messages' }).getByText('Forwarded').first().waitFor()
    await b.getByRole('button', { name: /^Open chat Weekend trip/ }).click()
    await b.getByRole('log', { name: 'Messages' }).getByText('Hello Alice! Nice to see you here').waitFor()
    await b.getByRole('log', { name: 'Messages' }).getByText('Forwarded').first().waitFor()
  })
  await step('bob reacts from the picker beyond six and alice sees who reacted', async () => {
    await b.getByRole('button', { name: /^Options for message from .+: Hello Alice! Nice to see you here$/ }).last().click()
    await b.getByRole('menuitem', { name: 'More reactions' }).click()
    await b.getByRole('group', { name: 'More reactions' }).getByRole('menuitem', { name: 'React 🎉' }).click()
    await a.getByRole('button', { name: /^Open chat Weekend trip/ }).click()
    const who = a.getByRole('button', { name: /^Reactions: 🎉 1\. Show who reacted$/ })
    await who.click()
    await a.getByRole('list', { name: 'Who reacted' }).getByText('🎉').waitFor()
  })
  await shot(a, '07b-forwarded')
})

test('everyday tools: search jumps to a message, drafts stay per chat, unread divider, jump to latest', async () => {
  const a = (await registered('alice')).page
  const b = (await registered('bob')).page
  const log = a.getByRole('log', { name: 'Messages' })
  await step('alice searches her messages and jumps to the hit', async () => {
    await a.getByRole('searchbox', { name: 'Search chats and messages' }).fill('from the terminal')
    await a.getByRole('region', { name: 'Messages found' }).getByRole('button', { name: /Hi Alice, from the terminal/ }).click()
    const hit = log.getByText('Hi Alice, from the terminal')
    await hit.waitFor()
    // In view inside the message list, not merely somewhere in it.
    const [box, view] = [await hit.boundingBox(), await log.boundingBox()]
    assert.ok(box && view && box.y >= view.y && box.y + box.height <= view.y + view.height, `hit at ${JSON.stringify(box)}, list at ${JSON.stringify(view)}`)
    await a.getByRole('searchbox', { name: 'Search chats and messages' }).fill('')
  })
  await step('a draft stays with its chat', async () => {
    await a.getByRole('textbox', { name: 'Message' }).fill('half-written thought')
    await a.getByRole('button', { name: /^Open chat Weekend trip/ }).click()
    await log.getByText('Dave here, thanks for the link').waitFor()
    assert.equal(await a.getByRole('textbox', { name: 'Message' }).inputValue(), '')
    await a.getByRole('button', { name: new RegExp(`^Open chat (Carol|${PHONES.carol.replace('+', '\\+')})`) }).click()
    await log.getByText('Hi Alice, from the terminal').waitFor()
    assert.equal(await a.getByRole('textbox', { name: 'Message' }).inputValue(), 'half-written thought')
    await a.getByRole('textbox', { name: 'Message' }).fill('')
  })
  await step('bob writes twice while alice is elsewhere; she sees where the unread begin', async () => {
    // Bob knows her by name or by number.
    await b.getByRole('button', { name: new RegExp(`^Open chat (Alice|${PHONES.alice.replace('+', '\\+')})`) }).click()
    const box = b.getByRole('textbox', { name: 'Message' })
    for (const t of ['Are you there?', 'Call me when you can']) {
      await box.fill(t)
      await box.press('Enter')
    }
    await a.getByRole('button', { name: new RegExp(`^Open chat (Bob|${PHONES.bob.replace('+', '\\+')}), 2 unread`) }).click()
    await log.getByRole('separator', { name: '2 unread messages' }).waitFor()
    await log.getByText('Call me when you can').waitFor()
  })
  await step('scrolled up, alice jumps back to the latest message', async () => {
    // A short window, so this chat is longer than the list.
    await a.setViewportSize({ width: 1100, height: 420 })
    await log.evaluate((el) => {
      el.scrollTop = 0
      el.dispatchEvent(new Event('scroll'))
    })
    const jump = a.getByRole('button', { name: 'Jump to latest' })
    await jump.click()
    await jump.waitFor({ state: 'detached' })
    const [box, view] = [await log.getByText('Call me when you can').boundingBox(), await log.boundingBox()]
    assert.ok(box && view && box.y + box.height <= view.y + view.height + 1, 'the latest message is in view')
    await a.setViewportSize({ width: 1100, height: 760 })
  })
  await shot(a, '07c-everyday')
})

test('presence: the chat header shows online, and nothing once "nobody" may see it', async () => {
  const a = (await registered('alice')).page
  const b = (await registered('bob')).page
  const openBob = () => a.getByRole('button', { name: new RegExp(`^Open chat (Bob|${PHONES.bob.replace('+', '\\+')})`) }).click()
  const openGroup = () => a.getByRole('button', { name: /^Open chat Weekend trip/ }).click()
  await step('alice sees bob online', async () => {
    await openGroup()
    await openBob()
    await a.getByText('online', { exact: true }).waitFor()
  })
  await step('bob lets nobody see his last seen and online', async () => {
    await b.getByRole('button', { name: 'Settings' }).click()
    await b.getByLabel('Who can see my last seen').selectOption('nobody')
    await b.getByRole('button', { name: 'Save privacy' }).click()
    await b.getByText('Privacy saved.').waitFor()
  })
  await step('alice no longer sees it', async () => {
    await openGroup()
    await openBob()
    await a.getByText('tap for contact info').waitFor()
    assert.equal(await a.getByText('online', { exact: true }).count(), 0)
  })
  await step('bob shows it again', async () => {
    await b.getByLabel('Who can see my last seen').selectOption('everyone')
    await b.getByRole('button', { name: 'Save privacy' }).click()
    await b.getByText('Privacy saved.').last().waitFor()
  })
})

// Communities: the info screen's sub-groups and announcements.
test('a community with a sub-group and an announcement', async () => {
  const a = (await registered('alice')).page
  const b = (await registered('bob')).page
  await step('alice creates a community with bob', async () => {
    await a.getByRole('button', { name: 'New chat' }).click()
    await a.getByRole('button', { name: 'Community', exact: true }).click()
    await a.getByLabel('Community name').fill('Neighbours')
    await a.getByLabel(/^Members/).fill(PHONES.bob)
    await a.getByRole('button', { name: 'Create community' }).click()
    await a.getByRole('log', { name: 'Messages' }).waitFor()
    await a.getByRole('button', { name: 'Chat info', exact: true }).click()
    await a.getByRole('heading', { name: 'Community info' }).waitFor()
  })
  await step('alice adds a sub-group', async () => {
    await a.getByLabel('New group name').fill('Garden')
    await a.getByRole('button', { name: 'Add group' }).click()
    await a.locator('.member', { hasText: 'Garden' }).waitFor()
  })
  await step('alice announces and bob receives it', async () => {
    await a.getByLabel('Announcement to all members').fill('Street party on Saturday')
    await a.getByRole('button', { name: 'Announce' }).click()
    await b.goto(server.url + '/')
    await b.locator('.chat-row', { hasText: 'Street party on Saturday' }).first().waitFor()
  })
  await shot(a, '08b-community-info')
})

test('reload the page and everything is still there', async () => {
  const alice = await registered('alice')
  const a = alice.page
  await step('alice reloads', async () => {
    await a.goto(server.url + '/')
    await a.getByRole('heading', { name: 'Chats' }).waitFor()
  })
  await step('her chats survived', async () => {
    // The group, and the last messages of the chats with bob and with carol
    // (the forwarded one) as the earlier tests left them.
    for (const t of ['Weekend trip', 'Call me when you can', 'Hello Alice! Nice to see you here']) await a.locator('.chat-row', { hasText: t }).first().waitFor()
    // bob, carol and the group
    assert.ok((await a.getByRole('list', { name: 'Chat list' }).locator('.chat-row').count()) >= 3)
  })
  await step('the conversation with bob survived, photo included', async () => {
    // The chat with bob ends with alice's photo; find it by the earlier text.
    await a.getByRole('searchbox', { name: 'Search chats and messages' }).fill('Hi Bob')
    await a.locator('.hits .chat-row', { hasText: 'Hi Bob, it is Alice' }).first().getByRole('button').click()
    await msg(a, 'out', 'Hi Bob, it is Alice').waitFor()
    await msg(a, 'in', 'Hello Alice!').waitFor()
    await a.locator('.msg.out img.photo:not(.blur)').last().waitFor()
  })
  const chatURL = a.url()
  await shot(a, '09-after-reload')
  await step('bob reloads too and is still signed in', async () => {
    const b = people.bob.page
    await b.reload()
    await b.getByRole('heading', { name: 'Chats' }).waitFor()
    await b.locator('.chat-row', { hasText: 'Weekend trip' }).or(b.locator('.chat-row')).first().waitFor()
  })
  // The same conversation on a phone-sized screen in the dark theme.
  await step('phone-sized dark screenshot', async () => {
    await a.setViewportSize({ width: 390, height: 780 })
    await a.emulateMedia({ colorScheme: 'dark' })
    await a.evaluate(() => localStorage.setItem('parley.theme', 'system'))
    await a.goto(chatURL)
    await msg(a, 'in', 'Hello Alice!').waitFor()
  })
  await shot(a, '10-phone-dark')
})

// Linking: a link code (and the URL in its QR code) makes a second browser a
// device of the account, which then receives messages too. Erin is a fresh
// account with one direct chat. (Alice, who is also in a group joined by
// invite link, cannot link a device yet: the external join of that group
// fails with "duplicate key in ratchet tree" in the client core — reported,
// not hidden here.)
test('a second browser links to an account with the link code QR URL', async () => {
  const e = (await registered('erin')).page
  const b = (await registered('bob')).page
  await step('erin writes to bob', () => newChat(e, PHONES.bob, 'Hi Bob, Erin here'))
  const code = await step('erin shows a link code', async () => {
    await e.goto(server.url + '/#/settings')
    await e.getByRole('button', { name: 'Link a device' }).click()
    await e.getByRole('img', { name: /^QR code of link code/ }).locator('svg').waitFor()
    return (await e.locator('.linkcode .code').textContent()).trim()
  })
  await shot(e, '11-link-code')
  const laptop = await person(browser, server, 'Erin laptop')
  people.laptop = laptop
  const l = laptop.page
  await step('the new browser opens the QR URL and links', async () => {
    await l.goto(`${server.url}/#/link/${encodeURIComponent(code)}`)
    assert.equal(await l.getByLabel('Link code').inputValue(), code)
    await l.getByRole('button', { name: 'Link this browser' }).click()
    await l.getByRole('heading', { name: 'Chats' }).waitFor({ timeout: 60000 })
  })
  await step('bob answers erin and her linked browser receives it', async () => {
    await b.goto(server.url + '/')
    await b.locator('.chat-row', { hasText: 'Hi Bob, Erin here' }).getByRole('button', { name: /^Open chat/ }).click()
    const box = b.getByRole('textbox', { name: 'Message' })
    await box.fill('Hello to both of your devices')
    await box.press('Enter')
    await l.locator('.chat-row', { hasText: 'Hello to both of your devices' }).waitFor({ timeout: 60000 })
    await e.goto(server.url + '/')
    await e.locator('.chat-row', { hasText: 'Hello to both of your devices' }).waitFor()
  })
  await shot(l, '12-linked-browser')
})

// Linking after all of the above: the new browser joins every chat of
// alice's, including a group she created that dave joined by link. (Its own
// join pass and one started by a conversations-changed signal used to race
// and commit the device into a tree twice; client.joinListed checks.)
test('alice, in a group joined by invite link, links a second browser', async () => {
  const a = (await registered('alice')).page
  await a.goto(server.url + '/#/settings')
  await a.getByRole('button', { name: 'Link a device' }).click()
  const code = (await a.locator('.linkcode .code').textContent()).trim()
  const l = (await person(browser, server, 'Alice laptop')).page
  await l.goto(`${server.url}/#/link/${encodeURIComponent(code)}`)
  await l.getByRole('button', { name: 'Link this browser' }).click()
  await l.getByRole('heading', { name: 'Chats' }).or(l.getByRole('alert')).first().waitFor({ timeout: 60000 })
  const err = await l.getByRole('alert').count()
  assert.equal(err ? await l.getByRole('alert').textContent() : '', '')
  await l.locator('.chat-row', { hasText: 'Weekend trip' }).waitFor()
})

test('the message menu: message info, star and starred messages, delete for me', async () => {
  const g = (await registered('gina')).page
  const h = (await registered('hank')).page
  const i = (await registered('ivy')).page
  g.on('dialog', (d) => d.accept())
  h.on('dialog', (d) => d.accept())
  const options = (page, text) => page.getByRole('button', { name: new RegExp(`^Options for (your )?message.*${text}`) })
  await step('gina writes to hank, who reads it', async () => {
    await newChat(g, PHONES.hank, 'Hi Hank from Gina')
    await openChat(h, 'Hi Hank from Gina')
    await expectStatus(msg(g, 'out', 'Hi Hank from Gina'), 'read')
  })
  await step('message info shows when hank received and read it', async () => {
    await options(g, 'Hi Hank from Gina').click()
    await g.getByRole('menuitem', { name: 'Message info' }).click()
    const info = g.getByRole('dialog', { name: 'Message info' })
    await info.getByText(/^Read:/).waitFor()
    assert.equal(await info.getByText('—').count(), 0, 'delivered and read times are shown')
    await info.getByRole('button', { name: 'Close' }).click()
    await info.waitFor({ state: 'detached' })
  })
  await step('hank gets no message info for gina\'s message', async () => {
    await options(h, 'Hi Hank from Gina').click()
    await h.getByRole('menuitem', { name: 'Delete for me' }).waitFor()
    assert.equal(await h.getByRole('menuitem', { name: 'Message info' }).count(), 0)
    await h.keyboard.press('Escape')
  })
  await step('gina stars her message and finds it under Starred messages', async () => {
    await options(g, 'Hi Hank from Gina').click()
    await g.getByRole('menuitem', { name: 'Star', exact: true }).click()
    await msg(g, 'out', 'Hi Hank from Gina').getByLabel('Starred').waitFor()
    await g.getByRole('button', { name: 'More options' }).click()
    await g.getByRole('menuitem', { name: 'Starred messages' }).click()
    const list = g.getByRole('list', { name: 'Starred' })
    await list.getByText('Hi Hank from Gina').waitFor()
    await shot(g, '15-starred')
    await list.getByRole('button', { name: 'Unstar: Hi Hank from Gina' }).click()
    await g.getByText('No starred messages.', { exact: false }).waitFor()
  })
  await step('hank deletes gina\'s message for himself only', async () => {
    await options(h, 'Hi Hank from Gina').click()
    await h.getByRole('menuitem', { name: 'Delete for me' }).click()
    await h.getByRole('log', { name: 'Messages' }).getByText('Hi Hank from Gina').waitFor({ state: 'detached' })
    await openChat(g, 'Hi Hank from Gina')
    await msg(g, 'out', 'Hi Hank from Gina').waitFor()
  })
  await step('in a group, message info lists every member; the header names them', async () => {
    await g.getByRole('button', { name: 'New chat' }).click()
    await g.getByRole('button', { name: 'Group', exact: true }).click()
    await g.getByLabel('Group name').fill('Tool shed')
    await g.getByLabel(/^Members/).fill(`${PHONES.hank}, ${PHONES.ivy}`)
    await g.getByRole('button', { name: 'Create group' }).click()
    await g.getByRole('log', { name: 'Messages' }).waitFor()
    await g.getByRole('button', { name: /^Chat info for Tool shed/ }).getByText(/^You, /).waitFor()
    const box = g.getByRole('textbox', { name: 'Message' })
    await box.fill('Tools are in the shed')
    await box.press('Enter')
    await openChat(h, 'Tool shed')
    await msg(h, 'in', 'Tools are in the shed').waitFor()
    // Hank's device wrote a line for the Welcome that added him.
    await h.getByRole('note').filter({ hasText: / added you$/ }).waitFor()
    await i.getByRole('list', { name: 'Chat list' }).getByText('Tools are in the shed').waitFor()
    // Hank has the group open: he has read it, Ivy only received it.
    await options(g, 'Tools are in the shed').click()
    await g.getByRole('menuitem', { name: 'Message info' }).click()
    const info = g.getByRole('dialog', { name: 'Message info' })
    const hank = info.getByRole('listitem', { name: /Hank|4155550148/ })
    const ivy = info.getByRole('listitem', { name: /Ivy|4155550149/ })
    await ivy.waitFor()
    await hank.getByText(/^Read:/).waitFor()
    // The receipts may reach Gina just after the dialog opened: open it again.
    for (let n = 0; n < 50 && ((await hank.getByText('—').count()) > 0 || (await ivy.getByText('—').count()) > 1); n++) {
      await info.getByRole('button', { name: 'Close' }).click()
      await new Promise((r) => setTimeout(r, 200))
      await options(g, 'Tools are in the shed').click()
      await g.getByRole('menuitem', { name: 'Message info' }).click()
      await ivy.waitFor()
    }
    assert.equal(await hank.getByText('—').count(), 0, 'hank received and read it')
    assert.equal(await ivy.getByText('—').count(), 1, 'ivy received it, not read it')
    await shot(g, '16-message-info-group')
    await info.getByRole('button', { name: 'Close' }).click()
  })
})

test('mute for 8 hours, for good, and mark a chat unread until it is opened', async () => {
  const g = (await registered('gina')).page
  await registered('hank')
  const row = g.getByRole('list', { name: 'Chat list' }).getByRole('listitem').filter({ hasText: 'Hi Hank from Gina' })
  const chatOptions = () => row.getByRole('button', { name: /^Options for / }).click()
  await step('gina mutes hank for 8 hours, then unmutes', async () => {
    await chatOptions()
    await g.getByRole('menuitem', { name: 'Mute…' }).click()
    await g.getByRole('group', { name: 'Mute for' }).getByRole('menuitem', { name: 'For 8 hours' }).click()
    await row.getByLabel('Muted').waitFor()
    await chatOptions()
    await g.getByRole('menuitem', { name: 'Unmute' }).click()
    await row.getByLabel('Muted').waitFor({ state: 'detached' })
  })
  await step('gina mutes hank always', async () => {
    await chatOptions()
    await g.getByRole('menuitem', { name: 'Mute…' }).click()
    await g.getByRole('menuitem', { name: 'Always' }).click()
    await row.getByLabel('Muted').waitFor()
    await g.reload()
    await row.getByLabel('Muted').waitFor()
    await chatOptions()
    await g.getByRole('menuitem', { name: 'Unmute' }).click()
    await row.getByLabel('Muted').waitFor({ state: 'detached' })
  })
  await step('gina marks the chat unread; opening it clears the mark', async () => {
    await chatOptions()
    await g.getByRole('menuitem', { name: 'Mark as unread' }).click()
    await row.getByRole('button', { name: /, marked unread$/ }).waitFor()
    await row.getByLabel('Marked unread', { exact: true }).waitFor()
    await shot(g, '17-marked-unread')
    await row.getByRole('button', { name: /^Open chat/ }).click()
    await g.getByRole('log', { name: 'Messages' }).waitFor()
    await row.getByLabel('Marked unread', { exact: true }).waitFor({ state: 'detached' })
    assert.equal(await row.getByRole('button', { name: /marked unread/ }).count(), 0)
  })
})

test('a broadcast list from the new-chat menu: contacts who saved the sender get it as a 1:1 message, others nothing', async () => {
  const o = (await registered('olga')).page
  const j = (await registered('jack')).page
  const k = (await registered('kate')).page
  const addToContacts = async (page) => {
    await page.getByRole('button', { name: 'Chat info', exact: true }).click()
    await page.getByRole('button', { name: 'Add to contacts' }).click()
    await page.getByRole('button', { name: 'Remove from contacts' }).waitFor()
  }
  await step('jack and kate write to olga; only jack saves olga as a contact', async () => {
    await newChat(j, PHONES.olga, 'Hi Olga, Jack here')
    await addToContacts(j)
    await newChat(k, PHONES.olga, 'Hi Olga, Kate here')
  })
  await step('olga saves both as contacts', async () => {
    for (const text of ['Hi Olga, Jack here', 'Hi Olga, Kate here']) {
      await o.locator('.chat-row', { hasText: text }).first().waitFor()
      await openChat(o, text)
      await addToContacts(o)
    }
  })
  await step('olga creates a list of both from the new-chat menu and sends to it', async () => {
    await o.getByRole('button', { name: 'New chat' }).click()
    await o.getByRole('button', { name: 'Broadcast', exact: true }).click()
    await o.getByLabel('List name').fill('Olga news')
    for (const name of ['Jack', 'Kate']) {
      await o.getByLabel('Search contacts').fill(name)
      await o.getByRole('list', { name: 'Contacts' }).getByRole('checkbox').first().check()
    }
    await o.getByRole('button', { name: 'Create list' }).click()
    const view = o.getByRole('region', { name: 'Broadcast list Olga news' })
    await view.waitFor()
    await o.getByLabel('Broadcast message').fill('New stock in on Friday')
    await o.getByRole('button', { name: 'Send to list' }).click()
    await o.getByRole('status').filter({ hasText: 'Sent to 2 of 2.' }).waitFor()
  })
  await step('jack gets it in his chat with olga; kate, who has not saved olga, gets nothing', async () => {
    await j.locator('.chat-row', { hasText: 'New stock in on Friday' }).first().waitFor()
    await openChat(j, 'New stock in on Friday')
    await msg(j, 'in', 'New stock in on Friday').waitFor()
    // Kate's chat with olga stays as it was (the server withheld her copy).
    await k.waitForTimeout(2000)
    assert.equal(await k.getByText('New stock in on Friday').count(), 0)
    // Olga's own copies are in each 1:1 chat, kate's too (it looks sent, as any message never delivered).
    await o.getByRole('button', { name: 'Back', exact: true }).click()
    for (const text of ['Hi Olga, Kate here', 'New stock in on Friday']) {
      await openChat(o, text)
      await msg(o, 'out', 'New stock in on Friday').waitFor()
    }
  })
  await step('olga renames the list, then deletes it', async () => {
    await o.getByRole('button', { name: 'New chat' }).click()
    await o.getByRole('button', { name: 'Broadcast', exact: true }).click()
    await o.getByRole('list', { name: 'Broadcast lists' }).getByRole('button', { name: /^Olga news/ }).click()
    await o.getByRole('button', { name: 'Edit list' }).click()
    await o.getByRole('form', { name: 'Edit list' }).getByLabel('List name').fill('Olga updates')
    await o.getByRole('button', { name: 'Save list' }).click()
    await o.getByRole('region', { name: 'Broadcast list Olga updates' }).waitFor()
    await shot(o, '18-broadcast-list')
    await o.getByRole('button', { name: 'Delete list' }).click()
    await o.getByRole('button', { name: 'Confirm: delete list' }).click()
    await o.getByRole('status').filter({ hasText: 'Deleted the list Olga updates' }).waitFor()
    assert.equal(await o.getByRole('list', { name: 'Broadcast lists' }).getByRole('button').count(), 0)
  })
})

test('status: "only share with" one contact is seen by that contact alone, with viewers, a private reply and deletion', async () => {
  const l = (await registered('lena')).page
  const m = (await registered('mike')).page
  const n = (await registered('nora')).page
  const addToContacts = async (page) => {
    await page.getByRole('button', { name: 'Chat info', exact: true }).click()
    await page.getByRole('button', { name: 'Add to contacts' }).click()
    await page.getByRole('button', { name: 'Remove from contacts' }).waitFor()
  }
  await step('mike and nora write to lena, who saves both as contacts', async () => {
    await newChat(m, PHONES.lena, 'Hi Lena, Mike here')
    await newChat(n, PHONES.lena, 'Hi Lena, Nora here')
    for (const text of ['Hi Lena, Mike here', 'Hi Lena, Nora here']) {
      await l.locator('.chat-row', { hasText: text }).first().waitFor()
      await openChat(l, text)
      await addToContacts(l)
    }
  })
  await step('lena posts a text status only to mike', async () => {
    await l.getByRole('button', { name: 'Status', exact: true }).click()
    await l.getByRole('button', { name: 'Add status' }).click()
    await l.getByLabel('Status text').fill('Gone climbing')
    await l.getByLabel('Background').selectOption({ label: 'Blue' })
    await l.getByLabel('Who can see it').selectOption({ label: 'Only share with…' })
    await l.getByLabel('Search contacts').fill('Mike')
    await l.getByRole('group', { name: 'Share only with' }).getByRole('checkbox', { name: /Mike/ }).check()
    await l.getByRole('button', { name: 'Post status' }).click()
    const posted = l.getByRole('list', { name: 'My status updates' }).getByText('Gone climbing')
    await posted.or(l.getByRole('alert')).first().waitFor()
    assert.equal(await l.getByRole('alert').count(), 0, await l.getByRole('alert').allTextContents().then((t) => t.join(' ')))
  })
  await step('mike sees a new update from lena, opens it and replies privately', async () => {
    await m.getByRole('button', { name: 'Status', exact: true }).click()
    const row = m.getByRole('list', { name: 'Recent updates' }).getByRole('button', { name: /1 new$/ })
    await row.waitFor({ timeout: 30000 })
    await shot(m, '19-status-feed')
    await row.click()
    await m.getByRole('article', { name: 'Status update' }).getByText('Gone climbing').waitFor()
    await shot(m, '19-status-view')
    await m.getByLabel('Reply privately').fill('Have fun up there')
    await m.getByRole('button', { name: 'Send reply' }).click()
    await msg(m, 'out', 'Have fun up there').waitFor()
    await m.getByLabel('Reply to status').getByText('Gone climbing').waitFor()
  })
  await step('lena gets the reply in her chat with mike, quoting the status', async () => {
    await l.locator('.chat-row', { hasText: 'Have fun up there' }).first().waitFor()
    await openChat(l, 'Have fun up there')
    await l.locator('.msg.in', { hasText: 'Have fun up there' }).getByLabel('Reply to status').getByText('Gone climbing').waitFor()
  })
  await step('nora, a contact of lena left out of the audience, sees nothing', async () => {
    await n.getByRole('button', { name: 'Status', exact: true }).click()
    await n.getByText('No status updates from your contacts.').waitFor()
    assert.equal(await n.getByText('Gone climbing').count(), 0)
  })
  await step('lena sees mike among the viewers, then deletes the post', async () => {
    await l.getByRole('button', { name: 'Status', exact: true }).click()
    const mine = l.getByRole('list', { name: 'My status updates' })
    await mine.getByText('1 view', { exact: true }).waitFor()
    await mine.getByRole('button', { name: 'Viewers' }).click()
    await l.getByRole('list', { name: 'Viewed by' }).getByText(/Mike/).waitFor()
    await mine.getByRole('button', { name: 'Delete' }).click()
    await mine.getByText('Gone climbing').waitFor({ state: 'detached' })
  })
})

// Web Push reaches the service worker as an encrypted push message that the
// browser's push service decrypts; Chrome DevTools Protocol's
// ServiceWorker.deliverPushMessage hands the worker such a message directly (no
// push service is reachable here). The worker must show "New message" and
// nothing of the content, tagged by conversation so repeats collapse.
test('a push message shows "New message" from the service worker', async () => {
  const ctx = await browser.newContext()
  await ctx.grantPermissions(['notifications'], { origin: server.url })
  const page = await ctx.newPage()
  await page.goto(server.url + '/')
  await page.getByRole('heading', { name: 'Welcome to Parley' }).waitFor()
  await step('the service worker activates', () => page.evaluate(() => navigator.serviceWorker.ready.then((r) => r.active?.state)))
  const cdp = await ctx.newCDPSession(page)
  const regs = []
  cdp.on('ServiceWorker.workerRegistrationUpdated', (e) => regs.push(...e.registrations))
  await cdp.send('ServiceWorker.enable')
  for (let i = 0; i < 50 && !regs.some((r) => r.scopeURL.startsWith(server.url) && !r.isDeleted); i++) await new Promise((r) => setTimeout(r, 100))
  const reg = regs.find((r) => r.scopeURL.startsWith(server.url) && !r.isDeleted)
  assert.ok(reg, 'no service worker registration')
  // No Parley window is open: the worker must notify.
  await page.goto('about:blank')
  await cdp.send('ServiceWorker.deliverPushMessage', { origin: server.url, registrationId: reg.registrationId, data: JSON.stringify({ c: 'cpushtest', s: 7 }) })
  await page.goto(server.url + '/')
  let shown = []
  for (let i = 0; i < 50 && shown.length === 0; i++) {
    shown = await page.evaluate(async () => (await (await navigator.serviceWorker.ready).getNotifications()).map((n) => ({ title: n.title, body: n.body, tag: n.tag })))
    if (!shown.length) await new Promise((r) => setTimeout(r, 100))
  }
  assert.deepEqual(shown, [{ title: 'New message', body: 'Open Parley to read it.', tag: 'chat-cpushtest' }])
  await ctx.close()
})

test('report a message with chosen evidence; the operator page shows exactly it and resolves it', async () => {
  const TOKEN = 'web-operator-token'
  const srv = await startServer(bin, ['--operator-token', TOKEN])
  const jill = await person(browser, srv, 'Jill')
  people.jill = jill
  const j = jill.page
  try {
    await step('jill registers', () => register(jill, srv, '+14155550150'))
    const kim = cliProfile('kim')
    await step('kim (CLI) writes four messages to jill', async () => {
      await cli(bin, kim, ['account', 'register', '--server', srv.url, '--phone', '+14155550151', '--name', 'Kim'])
      await cli(bin, kim, ['account', 'verify', '--code', await srv.code('+14155550151')])
      for (const t of ['hello jill', 'REPORT-MARKER not chosen', 'buy now once', 'buy now twice']) await cli(bin, kim, ['send', '--to', '+14155550150', t])
    })
    await step('jill opens the chat', async () => {
      await openChat(j, 'buy now twice')
      await msg(j, 'in', 'buy now twice').waitFor()
    })
    await step('jill reports the last message, including only it, and blocks kim', async () => {
      await j.getByRole('button', { name: /^Options for message.*buy now twice/ }).click()
      await j.getByRole('menuitem', { name: 'Report' }).click()
      const d = j.getByRole('dialog', { name: /^Report message from/ })
      // The dialog says what is sent and to whom before anything is sent.
      await d.getByText("goes to this server's operator", { exact: false }).waitFor()
      await d.getByText('Nothing from your chats is sent unless you tick the box below', { exact: false }).waitFor()
      await d.getByLabel('Spam').check()
      await d.getByLabel('Note (optional)').fill('sells things')
      const include = d.getByRole('checkbox', { name: /Include the last \d+ messages/ })
      await include.waitFor({ timeout: 5000 }).catch(async (e) => {
        throw new Error(`${e.message}\n${await d.innerHTML()}`)
      })
      assert.match(await include.evaluate((el) => el.closest('label').textContent), /Include the last \d+ messages \(they are decrypted on this device and sent to the server's operator\)/)
      await include.check()
      await d.getByLabel('How many messages').selectOption('1')
      await d.getByLabel('Also block').check()
      await shot(j, '30-report-dialog')
      await d.getByRole('button', { name: 'Send report' }).click()
      await d.getByRole('status').getByText('Report sent. 1 message(s) included. Blocked.').waitFor()
      await d.getByRole('button', { name: 'Close' }).click()
    })
    await step('kim is blocked', async () => {
      await assert.rejects(cli(bin, kim, ['send', '--to', '+14155550150', 'still there?']), /blocked/)
    })
    await step('the operator page lists the report with exactly the chosen message', async () => {
      await j.getByRole('button', { name: 'More options' }).click()
      await j.getByRole('menuitem', { name: 'Reports (server operator)' }).click()
      await j.getByRole('textbox', { name: 'Operator token' }).fill(TOKEN)
      await j.getByRole('button', { name: 'Open the queue' }).click()
      const list = j.getByRole('list', { name: 'Open reports' })
      const item = list.getByRole('listitem', { name: /^Report \d+$/ })
      await item.getByRole('list', { name: 'Included messages' }).getByText('buy now twice', { exact: false }).waitFor()
      await item.getByText('sells things').waitFor()
      const all = await list.innerText()
      assert.ok(!all.includes('REPORT-MARKER') && !all.includes('hello jill') && !all.includes('buy now once'), `the queue shows more than was chosen:\n${all}`)
      await shot(j, '31-operator-reports')
      await item.getByRole('button', { name: 'Resolve' }).click()
      await list.getByText('No open reports.').waitFor()
    })

    // A group jill administers: she sees the report about it (not who filed
    // it nor what they included) and bans the reported member, who cannot
    // come back through a link.
    const lee = cliProfile('lee')
    const mo = cliProfile('mo')
    let stalls = ''
    await step('lee (CLI) makes a group with jill and mo, and makes jill an admin', async () => {
      for (const [p, phone, name] of [
        [lee, '+14155550152', 'Lee'],
        [mo, '+14155550153', 'Mo'],
      ]) {
        await cli(bin, p, ['account', 'register', '--server', srv.url, '--phone', phone, '--name', name])
        await cli(bin, p, ['account', 'verify', '--code', await srv.code(phone)])
      }
      stalls = (await cli(bin, lee, ['group', 'create', 'Stalls', '--member', '+14155550150', '--member', '+14155550153']))[0].group
      await cli(bin, lee, ['group', 'promote', stalls, '+14155550150'])
      const sent = await cli(bin, mo, ['send', '--to', stalls, 'STALL-SPAM cheap stuff'])
      await cli(bin, lee, ['history', stalls])
      await cli(bin, lee, ['report', sent[0].id, '--reason', 'spam', '--text', 'mo spams the stalls', '--include', '1'])
    })
    await step('jill sees the report about her group, without reporter or evidence', async () => {
      j.on('dialog', (d) => d.accept())
      await openChat(j, 'Stalls')
      await j.getByRole('button', { name: 'Chat info', exact: true }).click()
      const reports = j.getByRole('list', { name: 'Reports about this group' })
      await reports.getByText('mo spams the stalls', { exact: false }).waitFor()
      const text = await reports.innerText()
      assert.ok(!text.includes('STALL-SPAM') && !text.includes('Lee'), `a group admin sees more than the report:\n${text}`)
      await shot(j, '32-group-moderation')
    })
    await step('jill bans mo; mo cannot rejoin by link', async () => {
      await j.getByLabel('Member to ban').selectOption({ index: 1 })
      await j.getByRole('button', { name: 'Ban', exact: true }).click()
      await j.getByRole('list', { name: 'Banned' }).getByRole('button', { name: 'Unban' }).waitFor()
      const link = (await cli(bin, lee, ['group', 'invite', stalls]))[0].link
      await assert.rejects(cli(bin, mo, ['group', 'join', link]), /banned_from_group/)
    })
  } finally {
    delete people.jill
    await jill.ctx.close()
    await srv.stop()
  }
})

// Backups (#18): a backup made in Settings, with its recovery key written
// down, is restored by a fresh browser that registers the same number (a new
// primary device): the old history shows and the old chat works. Elements
// are found by role, label and visible text only. It runs on a server of its
// own: the shared one's limit of verification codes per address (10 an hour)
// is spent by the tests above.
test('a backup made in settings is restored on a fresh browser that registers the same number', async (t) => {
  const srv = await startServer(bin)
  t.after(() => srv.stop())
  const bstep = (what, f) =>
    step(what, async () => {
      try {
        return await f()
      } catch (e) {
        e.message += `\n--- this test's server log (tail) ---\n${srv.log().split('\n').slice(-30).join('\n')}`
        throw e
      }
    })
  const JILL = '+14155550187'
  const KEN = '+14155550188'
  const jill = (people.jill = await person(browser, srv, 'Jill'))
  const ken = (people.ken = await person(browser, srv, 'Ken'))
  await bstep('jill and ken register', async () => {
    await register(jill, srv, JILL)
    await register(ken, srv, KEN)
  })
  const j = jill.page
  const k = ken.page
  const messages = (page) => page.getByRole('log', { name: 'Messages' })
  await bstep('jill writes to ken and ken answers', async () => {
    await j.getByRole('button', { name: 'New chat' }).click()
    await j.getByLabel('Phone number or @username').fill(KEN)
    await j.getByLabel('First message').fill('Our plan, kept in backup 7734')
    await j.getByRole('button', { name: 'Start chat' }).click()
    await messages(j).getByText('Our plan, kept in backup 7734').waitFor()
    await k.getByRole('button', { name: /^Open chat Jill/ }).click()
    await messages(k).getByText('Our plan, kept in backup 7734').waitFor()
    const box = k.getByRole('textbox', { name: 'Message' })
    await box.fill('Ken agrees 7734')
    await box.press('Enter')
    await messages(j).getByText('Ken agrees 7734').waitFor()
  })

  let key = ''
  await bstep('jill backs up in Settings and writes the recovery key down', async () => {
    await j.getByRole('button', { name: 'Settings' }).click()
    await j.getByText('No backup yet.').waitFor()
    await j.getByRole('button', { name: 'Back up now' }).click()
    await j.getByRole('heading', { name: 'Write down your recovery key' }).waitFor()
    await shot(j, 'backup-recovery-key')
    key = (await j.getByLabel('Recovery key', { exact: true }).textContent()).trim()
    assert.match(key.replace(/ /g, ''), /^[0-9a-f]{64}$/)
    // Done waits for the user to confirm the key is written down.
    assert.equal(await j.getByRole('button', { name: 'Done' }).isDisabled(), true)
    await j.getByLabel('I have written down my recovery key').check()
    await j.getByRole('button', { name: 'Done' }).click()
    await j.getByText(/^Last backup: .+ · [0-9.]+ (B|KB)$/).waitFor()
    assert.equal(await j.getByLabel('Recovery key', { exact: true }).count(), 0) // shown once
  })
  await bstep('jill turns on daily backups', async () => {
    await j.getByLabel('Back up daily').check()
    await j.getByText('Daily backups are on while Parley is open.').waitFor()
    // A backup was made a moment ago, so no new key is shown.
    assert.equal(await j.getByLabel('Recovery key', { exact: true }).count(), 0)
  })
  await shot(j, 'backup-settings')

  const jill2 = (people.jill2 = await person(browser, srv, 'Jill'))
  const n = jill2.page
  await bstep("a fresh browser registers jill's number and is offered the restore", async () => {
    await n.getByLabel('Phone number').fill(JILL)
    await n.getByLabel('Your name').fill('Jill')
    await n.getByRole('button', { name: 'Send code' }).click()
    await n.getByLabel('Verification code').fill(await srv.code(JILL))
    await n.getByRole('button', { name: 'Verify' }).click()
    await n.getByRole('heading', { name: 'Restore from backup' }).waitFor()
  })
  await bstep('a wrong recovery key is refused', async () => {
    await n.getByLabel('Recovery key', { exact: true }).fill('0'.repeat(64))
    await n.getByRole('button', { name: 'Restore' }).click()
    await n.getByRole('alert').getByText('this backup was made with another recovery key').waitFor()
  })
  await bstep('the written-down key brings the chats back', async () => {
    await n.getByLabel('Recovery key', { exact: true }).fill(key)
    await shot(n, 'backup-restore-step')
    await n.getByRole('button', { name: 'Restore' }).click()
    await n.getByText(/^Restored 1 chat and 2 messages from your backup/).waitFor()
    await shot(n, 'backup-restored')
    await n.getByRole('button', { name: 'Continue' }).click()
    await n.getByRole('heading', { name: 'Chats' }).waitFor()
    // Ken's chat is the one chat (titled by his name or number).
    await n.getByRole('button', { name: /^Open chat / }).click()
    await messages(n).getByText('Our plan, kept in backup 7734').waitFor()
    await messages(n).getByText('Ken agrees 7734').waitFor()
  })
  await bstep('the restored browser writes in the old chat and ken reads it', async () => {
    const box = n.getByRole('textbox', { name: 'Message' })
    await box.fill('Hello from my new browser 7734')
    await box.press('Enter')
    await messages(k).getByText('Hello from my new browser 7734').waitFor()
    await k.getByRole('textbox', { name: 'Message' }).fill('Welcome back 7734')
    await k.getByRole('textbox', { name: 'Message' }).press('Enter')
    await messages(n).getByText('Welcome back 7734').waitFor()
  })
  await shot(n, 'backup-old-chat-works')
})

test('names, not handles: profile name, about and photo; "created the group"; the photo follows its privacy setting', async () => {
  // Frank and Ivy have not met in the earlier tests (and the server lets one
  // address register only ten numbers an hour).
  const j = (await registered('frank')).page
  const k = (await registered('ivy')).page
  await step('frank sets his name, about line and photo in settings', async () => {
    await j.getByRole('button', { name: 'Settings' }).click()
    await j.getByLabel('Your name').fill('Francis Drake')
    await j.getByRole('button', { name: 'Save name' }).click()
    await j.getByText('Name saved.').waitFor()
    await j.getByLabel('About').fill('Captain of the Golden Hind')
    await j.getByRole('button', { name: 'Save about' }).click()
    await j.getByText('About saved.').waitFor()
    const chooser = j.waitForEvent('filechooser')
    await j.getByRole('button', { name: 'Add photo' }).click()
    await (await chooser).setFiles(join(here, '../app/public/icon-512.png'))
    await j.getByText('Profile photo saved.').waitFor()
    await j.getByRole('img', { name: 'Your profile photo' }).waitFor()
    await j.getByRole('button', { name: 'Back', exact: true }).click()
  })
  await step('frank writes to ivy; she sees his name in the chat list, the header and the message menu', async () => {
    await newChat(j, PHONES.ivy, 'Ahoy Ivy')
    await k.getByRole('button', { name: /^Open chat Francis Drake/ }).click()
    await k.locator('.bar-title', { hasText: 'Francis Drake' }).waitFor()
    await k.getByRole('button', { name: 'Options for message from Francis Drake: Ahoy Ivy' }).waitFor()
  })
  await step("ivy sees frank's photo and about line in his contact info", async () => {
    await k.getByRole('button', { name: 'Chat info', exact: true }).click()
    await k.getByRole('img', { name: 'Profile photo of Francis Drake' }).waitFor()
    await k.getByLabel('About').getByText('Captain of the Golden Hind').waitFor()
    await shot(k, '17a-profile-photo')
    await k.getByRole('button', { name: 'Back', exact: true }).click()
  })
  await step('frank creates a group with ivy: the first line says who created it, messages name him', async () => {
    await j.getByRole('button', { name: 'New chat' }).click()
    await j.getByRole('button', { name: 'Group', exact: true }).click()
    await j.getByLabel('Group name').fill('Golden Hind')
    await j.getByLabel(/^Members/).fill(PHONES.ivy)
    await j.getByRole('button', { name: 'Create group' }).click()
    await j.getByRole('note').filter({ hasText: /^You created the group$/ }).waitFor()
    const box = j.getByRole('textbox', { name: 'Message' })
    await box.fill('All hands on deck')
    await box.press('Enter')
    await k.getByRole('button', { name: /^Open chat Golden Hind/ }).click()
    await k.getByRole('note').filter({ hasText: /^Francis Drake created the group and added you$/ }).waitFor()
    await k.getByRole('button', { name: 'Options for message from Francis Drake: All hands on deck' }).waitFor()
  })
  await step('frank lets nobody see his photo and is knighted: ivy gets no photo, and his new name once she opens the chat', async () => {
    await j.getByRole('button', { name: 'Settings' }).click()
    await j.getByLabel('Who can see my photo').selectOption('nobody')
    await j.getByRole('button', { name: 'Save photo privacy' }).click()
    await j.getByText('Photo privacy saved.').waitFor()
    await j.getByLabel('Your name').fill('Sir Francis Drake')
    await j.getByRole('button', { name: 'Save name' }).click()
    await j.getByText('Name saved.').waitFor()
    await k.reload()
    await k.getByRole('button', { name: /^Open chat Francis Drake/ }).click()
    await k.locator('.bar-title', { hasText: 'Sir Francis Drake' }).waitFor()
    await k.getByRole('button', { name: /^Open chat Sir Francis Drake/ }).waitFor()
    await k.getByRole('button', { name: 'Chat info', exact: true }).click()
    await k.getByLabel('About').getByText('Captain of the Golden Hind').waitFor()
    await k.getByRole('heading', { name: 'Sir Francis Drake' }).waitFor()
    assert.equal(await k.getByRole('img', { name: /^Profile photo of/ }).count(), 0)
  })
})

test('full-text search on the device: word prefixes without accents find a message and jump to it, highlighted', async () => {
  const l = (await registered('erin')).page
  const m = (await registered('dave')).page
  await step('erin writes to dave, then many more messages', async () => {
    await newChat(l, PHONES.dave, 'Meet at the Café Zürich at noon')
    const box = l.getByRole('textbox', { name: 'Message' })
    for (let i = 1; i <= 30; i++) {
      await box.fill(`filler message number ${i}`)
      await box.press('Enter')
    }
    await m.locator('.chat-row', { hasText: 'filler message number 30' }).waitFor()
  })
  await step('dave finds it by "cafe zur" and lands on it, in view and highlighted', async () => {
    const search = m.getByRole('searchbox', { name: 'Search chats and messages' })
    await search.fill('urich') // inside a word: nothing
    await m.getByRole('region', { name: 'Messages found' }).getByText('No messages found.').waitFor()
    await search.fill('cafe zur')
    await m.getByRole('region', { name: 'Messages found' }).getByRole('button', { name: /Meet at the Café Zürich at noon/ }).click()
    const log = m.getByRole('log', { name: 'Messages' })
    const hit = log.getByText('Meet at the Café Zürich at noon')
    await hit.waitFor()
    const [box, view] = [await hit.boundingBox(), await log.boundingBox()]
    assert.ok(box && view && box.y >= view.y && box.y + box.height <= view.y + view.height, `hit at ${JSON.stringify(box)}, list at ${JSON.stringify(view)}`)
    assert.equal(await hit.evaluate((el) => el.closest('[aria-current="true"]') !== null), true)
    await shot(m, '17b-search-hit')
    await search.fill('')
  })
})
