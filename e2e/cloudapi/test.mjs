// End-to-end test of Parley's business API with an independent WhatsApp
// Cloud API client, the npm package @great-detail/whatsapp (pinned in
// package.json). It starts a real `parley serve` on 127.0.0.1, registers a
// business and a customer with the parley CLI, and then, through the SDK
// only: sends text, media (uploaded, then by id), a template and an
// interactive message, marks a message read, manages templates, and
// receives webhooks whose X-Hub-Signature-256 the SDK verifies. The
// customer is a real CLI client: the chat is end-to-end encrypted between
// the customer's device and the business's hosted endpoint.
//
// It also checks fidelity to the Cloud API's documented behaviour: bodies
// arrive with non-ASCII escaped as \uXXXX and signed in that form (the
// receiver verifies as Meta documents, by escaping the raw body before the
// HMAC, and over the raw body as the SDK does; the customer's name and
// messages have accents and emoji), reactions both ways,
// biz_opaque_callback_data on every status, the Graph API's error for an
// unknown phone number id, messaging_product in an upload's query string,
// sha256 of inbound media, message_status of a template send, and
// typing_indicator.
//
//   node test.mjs /path/to/parley
import Client from "@great-detail/whatsapp";
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import readline from "node:readline";
import http from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
const parley = process.argv[2] || process.env.PARLEY_BIN;
if (!parley) throw new Error("usage: node test.mjs /path/to/parley");

const OPERATOR = "op-" + Math.random().toString(36).slice(2);
const VERIFY_TOKEN = "verify-" + Math.random().toString(36).slice(2);
const APP_SECRET = "secret-" + Math.random().toString(36).slice(2);
const BIZ = "+14155550100";
const CUST = "+14155550123";
const CUST_NAME = "Zoë Açaí 😀"; // non-ASCII: escaped in the webhook body as Meta does
const dir = await mkdtemp(join(tmpdir(), "parley-cloudapi-"));

// ---- the server ----
const codes = new Map();
const waiters = [];
let serverURL;
// The webhook receiver below is on 127.0.0.1: allowed as an operator
// allows a private range.
const server = spawn(parley, ["serve", "--data", join(dir, "data"), "--listen", "127.0.0.1:0", "--operator-token", OPERATOR,
  "--outbound-allow", "127.0.0.1/32"],
  { stdio: ["ignore", "ignore", "pipe"] });
let log = "";
server.stderr.setEncoding("utf8");
server.stderr.on("data", (chunk) => {
  log += chunk;
  for (const m of chunk.matchAll(/verification code for (\+\d+): (\d+)/g)) codes.set(m[1], m[2]);
  const l = chunk.match(/listening on (http:\/\/[0-9.:]+)/);
  if (l) serverURL = l[1];
  waiters.splice(0).forEach((w) => w());
});
const exited = new Promise((resolve) => server.on("exit", resolve));

async function until(what, f, ms = 20000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > deadline) throw new Error("timed out waiting for " + what);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// ---- the parley CLI ----
async function cli(profile, ...args) {
  try {
    const { stdout } = await run(parley, ["--profile", join(dir, profile), "--json", ...args], { timeout: 60000 });
    return stdout.trim().split("\n").filter(Boolean).map((l) => JSON.parse(l));
  } catch (e) {
    throw new Error(`parley ${args.join(" ")}: ${e.stderr || e.message}`);
  }
}

async function register(profile, phone, name) {
  await cli(profile, "account", "register", "--server", serverURL, "--phone", phone, "--name", name);
  const code = await until("code for " + phone, () => codes.get(phone));
  await cli(profile, "account", "verify", "--code", code);
}

// ---- the webhook receiver, checked by the SDK ----
// metaEscape is Meta's documented verification step: the payload with
// every non-ASCII character escaped as \uXXXX, lower-case hex, characters
// above U+FFFF as their UTF-16 surrogate pair (a JS string's code units).
function metaEscape(body) {
  return body.replace(/[\u0080-\uffff]/g, (c) => "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0"));
}
function metaVerify(secret, body, header) {
  const want = Buffer.from("sha256=" + createHmac("sha256", secret).update(metaEscape(body), "utf8").digest("hex"));
  const got = Buffer.from(String(header || ""));
  return got.length === want.length && timingSafeEqual(got, want);
}
const events = [];
let badSignatures = 0;
let nonASCII = 0;
const receiverSDK = new Client();
const receiver = http.createServer(async (req, res) => {
  const url = new URL(req.url, "http://x");
  const chunks = [];
  for await (const c of req) chunks.push(c);
  const raw = Buffer.concat(chunks);
  const body = raw.toString("utf8");
  try {
    if (req.method === "GET") {
      const reg = await receiverSDK.webhook.register({ method: req.method, query: Object.fromEntries(url.searchParams) });
      if (reg.verifyToken !== VERIFY_TOKEN) {
        res.writeHead(403).end();
        return;
      }
      res.writeHead(200).end(reg.accept());
      return;
    }
    const n = await receiverSDK.webhook.eventNotification({ method: req.method, headers: req.headers, body });
    try {
      await n.verifySignature(APP_SECRET); // over the raw body
    } catch (e) {
      badSignatures++;
      res.writeHead(401).end();
      return;
    }
    if (!metaVerify(APP_SECRET, body, req.headers["x-hub-signature-256"])) {
      badSignatures++;
      res.writeHead(401).end();
      return;
    }
    if (raw.some((b) => b >= 0x80)) nonASCII++;
    events.push(n.eventNotification);
    res.writeHead(200).end();
  } catch (e) {
    res.writeHead(400).end(String(e));
  }
});
await new Promise((r) => receiver.listen(0, "127.0.0.1", r));
const hookURL = `http://127.0.0.1:${receiver.address().port}/webhook`;

function changes() {
  return events.flatMap((ev) => ev.entry.flatMap((e) => e.changes));
}
function waitChange(what, pred) {
  return until(what, () => changes().find(pred));
}

function apiError(e) {
  let data = e.data;
  if (typeof data === "string") {
    try { data = JSON.parse(data); } catch { /* not JSON */ }
  }
  return data?.error;
}

let failed = false;
try {
  await until("the server to listen", () => serverURL);

  await register("biz", BIZ, "Corner Shop");
  await register("cust", CUST, CUST_NAME);
  const [num] = await cli("biz", "business", "api", "enable");
  const pnid = num.phone_number_id;
  assert.match(pnid, /^\d+$/);
  const [tok] = await cli("biz", "business", "tokens", "create", "--name", "npm e2e");
  await cli("biz", "business", "webhook", "set", "--url", hookURL, "--verify-token", VERIFY_TOKEN, "--app-secret", APP_SECRET);

  const sdk = new Client({ baseUrl: serverURL, graphVersion: "v23.0", request: { headers: { Authorization: `Bearer ${tok.token}` } } });
  const custWa = CUST.slice(1);

  // 1. Outside the customer-service window: refused with 131047.
  await assert.rejects(
    sdk.message.createMessage({ phoneNumberID: pnid, to: custWa, type: "text", text: { body: "hello?" } }),
    (e) => apiError(e)?.code === 131047,
  );

  // 2. The customer writes (CLI, end-to-end encrypted): a signed webhook.
  const hello = "olá shop, are you open? ☕🥐";
  await cli("cust", "send", "--to", BIZ, hello);
  const inbound = await waitChange("the inbound message", (c) => c.field === "messages" && c.value.messages?.[0]?.text?.body === hello);
  assert.equal(inbound.value.messages[0].from, custWa);
  assert.equal(inbound.value.metadata.phone_number_id, pnid);
  assert.equal(inbound.value.contacts[0].profile.name, CUST_NAME);
  const inboundID = inbound.value.messages[0].id;

  // 2b. An unknown phone number id (or one the token cannot see): the
  // Graph API's 400, GraphMethodException, code 100, subcode 33.
  await assert.rejects(
    sdk.message.createMessage({ phoneNumberID: "999999999", to: custWa, type: "text", text: { body: "x" } }),
    (e) => {
      const err = apiError(e);
      return e.response?.status === 400 && err?.type === "GraphMethodException" && err.code === 100 && err.error_subcode === 33 &&
        err.message.startsWith("Unsupported post request. Object with ID '999999999' does not exist, cannot be loaded due to missing permissions") &&
        typeof err.fbtrace_id === "string";
    },
  );

  // 3. Text, as a reply.
  const textRes = await (await sdk.message.createMessage({ phoneNumberID: pnid, to: "+" + custWa, type: "text",
    text: { body: "Yes, open until 18:00" }, context: { message_id: inboundID }, biz_opaque_callback_data: "spring-sale" })).json();
  assert.equal(textRes.messaging_product, "whatsapp");
  assert.deepEqual(textRes.contacts, [{ input: "+" + custWa, wa_id: custWa }]);
  assert.match(textRes.messages[0].id, /^wamid\./);

  // 4. Media: upload an image, send it by id, fetch it back.
  const png = Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFklEQVR4nGP8z8DAwMDAxMDAwMDAAAANHQEDasKb6QAAAABJRU5ErkJggg==", "base64");
  const up = await (await sdk.media.upload({ phoneNumberID: pnid, file: new Blob([png], { type: "image/png" }), filename: "bread.png", mimeType: "image/png" })).json();
  assert.match(up.id, /^med_/);
  const meta = await (await sdk.media.getURL({ mediaID: up.id, phoneNumberID: pnid })).json();
  assert.equal(meta.file_size, png.length);
  assert.equal(meta.mime_type, "image/png");
  const fetched = Buffer.from(await (await fetch(meta.url, { headers: { Authorization: `Bearer ${tok.token}` } })).arrayBuffer());
  assert.ok(fetched.equals(png), "downloaded media differs from the upload");
  await (await sdk.message.createMessage({ phoneNumberID: pnid, to: custWa, type: "image", image: { id: up.id, caption: "fresh bread" } })).json();
  // messaging_product may be in the query string instead of the form.
  const form = new FormData();
  form.set("file", new Blob([png], { type: "image/png" }), "crumb.png");
  form.set("type", "image/png");
  const upQ = await fetch(`${serverURL}/v23.0/${pnid}/media?messaging_product=whatsapp`, { method: "POST", body: form,
    headers: { Authorization: `Bearer ${tok.token}` } });
  assert.equal(upQ.status, 200, "upload with messaging_product in the query string");
  assert.match((await upQ.json()).id, /^med_/);

  // 5. Interactive reply buttons.
  await (await sdk.message.createMessage({ phoneNumberID: pnid, to: custWa, type: "interactive", interactive: {
    type: "button", body: { text: "Deliver or pick up?" },
    action: { buttons: [{ type: "reply", reply: { id: "deliver", title: "Deliver" } }, { type: "reply", reply: { id: "pickup", title: "Pick up" } }] },
  } })).json();

  // 6. Templates: create (PENDING), the operator approves (webhook), send with parameters.
  const created = await (await sdk.template.create(pnid, { name: "order_ready", language: "en_US", category: "UTILITY",
    components: [{ type: "BODY", text: "Your order {{1}} is ready for {{2}}" }, { type: "FOOTER", text: "Corner Shop" }] })).json();
  assert.equal(created.status, "PENDING");
  await assert.rejects(
    sdk.message.createMessage({ phoneNumberID: pnid, to: custWa, type: "template", template: { name: "order_ready", language: { code: "en_US" } } }),
    (e) => apiError(e)?.code === 132001,
  );
  await cli("biz", "business", "templates", "review", "--server", serverURL, "--operator-token", OPERATOR, created.id, "--status", "APPROVED");
  await waitChange("the template approval", (c) => c.field === "message_template_status_update" && c.value.message_template_id === created.id && c.value.event === "APPROVED");
  const listed = await (await sdk.template.list(pnid, {})).json();
  assert.ok(listed.data.some((t) => t.id === created.id && t.status === "APPROVED"));
  await assert.rejects(
    sdk.message.createMessage({ phoneNumberID: pnid, to: custWa, type: "template", template: { name: "order_ready", language: { code: "en_US" },
      components: [{ type: "body", parameters: [{ type: "text", text: "#42" }] }] } }),
    (e) => apiError(e)?.code === 132000,
  );
  const tplRes = await (await sdk.message.createMessage({ phoneNumberID: pnid, to: custWa, type: "template", template: { name: "order_ready", language: { code: "en_US" },
    components: [{ type: "body", parameters: [{ type: "text", text: "#42" }, { type: "text", text: "pick-up" }] }] } })).json();
  assert.equal(tplRes.messages[0].message_status, "accepted");
  assert.equal(textRes.messages[0].message_status, undefined);

  // 6b. The business reacts to the customer's message: a message of its
  // own, with its own id and sent status (echoing the callback data).
  const reactRes = await (await sdk.message.createMessage({ phoneNumberID: pnid, to: custWa, type: "reaction",
    reaction: { message_id: inboundID, emoji: "👍" }, biz_opaque_callback_data: "react-1" })).json();
  assert.match(reactRes.messages[0].id, /^wamid\./);
  assert.notEqual(reactRes.messages[0].id, inboundID);
  const reactSent = await waitChange("the reaction's sent status", (c) => c.value.statuses?.[0]?.id === reactRes.messages[0].id && c.value.statuses[0].status === "sent");
  assert.equal(reactSent.value.statuses[0].biz_opaque_callback_data, "react-1");

  // 7. Mark the customer's message read.
  const st = await (await sdk.message.createStatus({ phoneNumberID: pnid, message_id: inboundID, status: "read" })).json();
  assert.equal(st.success, true);

  // 8. The customer's device decrypted all of it.
  const history = await until("the customer's history", async () => {
    const h = await cli("cust", "history", BIZ);
    const texts = h.map((m) => m.text);
    const ok = texts.includes("Yes, open until 18:00") && h.some((m) => m.kind === "image" && m.text === "fresh bread") &&
      h.some((m) => m.business?.interactive?.body === "Deliver or pick up?") &&
      h.some((m) => m.business?.template?.body === "Your order #42 is ready for pick-up");
    return ok && h;
  });
  assert.ok(history.length >= 5);

  // 9. The customer reads the chat: delivered and read statuses arrive.
  await cli("cust", "read", BIZ);
  await waitChange("a delivered status", (c) => c.field === "messages" && c.value.statuses?.[0]?.status === "delivered");
  const read = await waitChange("a read status", (c) => c.field === "messages" && c.value.statuses?.[0]?.status === "read" && c.value.statuses[0].id === textRes.messages[0].id);
  assert.equal(read.value.statuses[0].recipient_id, custWa);
  // Every message the API sent has a sent status, before its delivered and read.
  const statusAt = (id, status) => changes().findIndex((c) => c.field === "messages" && c.value.statuses?.[0]?.id === id && c.value.statuses[0].status === status);
  const sent = await waitChange("a sent status", (c) => c.field === "messages" && c.value.statuses?.[0]?.status === "sent" && c.value.statuses[0].id === textRes.messages[0].id);
  assert.equal(sent.value.statuses[0].recipient_id, custWa);
  assert.match(sent.value.statuses[0].timestamp, /^[0-9]+$/);
  assert.ok(statusAt(textRes.messages[0].id, "sent") < statusAt(textRes.messages[0].id, "read"), "sent came after read");
  const delivered = statusAt(textRes.messages[0].id, "delivered");
  assert.ok(delivered < 0 || statusAt(textRes.messages[0].id, "sent") < delivered, "sent came after delivered");
  assert.ok(changes().filter((c) => c.field === "messages" && c.value.statuses?.[0]?.status === "sent").length >= 4, "fewer than 4 sent statuses");
  // biz_opaque_callback_data comes back on every status of its message.
  for (const c of changes().filter((c) => c.value.statuses?.[0]?.id === textRes.messages[0].id)) {
    assert.equal(c.value.statuses[0].biz_opaque_callback_data, "spring-sale", c.value.statuses[0].status + " status without the callback data");
  }
  assert.equal(read.value.statuses[0].biz_opaque_callback_data, "spring-sale");

  // 9b. The customer reacts to the business's message, then removes the
  // reaction: type "reaction" webhooks, the removal without an emoji.
  const [, conv, seq] = textRes.messages[0].id.match(/^wamid\.(.+)\.(\d+)$/);
  await cli("cust", "react", `${conv}:${seq}`, "❤️");
  const reacted = await waitChange("the customer's reaction", (c) => c.value.messages?.[0]?.type === "reaction" && c.value.messages[0].reaction.emoji === "❤️");
  assert.equal(reacted.value.messages[0].from, custWa);
  assert.equal(reacted.value.messages[0].reaction.message_id, textRes.messages[0].id);
  assert.match(reacted.value.messages[0].id, /^wamid\./);
  assert.match(reacted.value.messages[0].timestamp, /^[0-9]+$/);
  await cli("cust", "react", "--remove", `${conv}:${seq}`);
  const removed = await waitChange("the removed reaction", (c) => c.value.messages?.[0]?.type === "reaction" && !c.value.messages[0].reaction.emoji);
  assert.equal(removed.value.messages[0].reaction.message_id, textRes.messages[0].id);

  // 9c. Inbound media carries its sha256.
  const notes = join(dir, "notes.txt");
  const notesBody = "two copies, please — merci ✓\n";
  await writeFile(notes, notesBody);
  await cli("cust", "send", "--to", BIZ, "--file", notes);
  const sha = createHash("sha256").update(notesBody).digest("hex");
  const doc = await waitChange("the inbound file", (c) => { const m = c.value.messages?.[0]; return m && m[m.type]?.sha256; });
  const docMsg = doc.value.messages[0];
  assert.equal(docMsg[docMsg.type].sha256, sha);
  const docMeta = await (await sdk.media.getURL({ mediaID: docMsg[docMsg.type].id, phoneNumberID: pnid })).json();
  assert.equal(docMeta.sha256, sha);

  // 9d. typing_indicator: an unknown type is refused; "text" marks read and
  // shows the customer (a CLI listening) the business typing until it replies.
  await assert.rejects(
    sdk.message.createStatus({ phoneNumberID: pnid, message_id: docMsg.id, status: "read", typing_indicator: { type: "voice" } }),
    (e) => apiError(e)?.code === 131009 && /typing_indicator\.type/.test(apiError(e)?.error_data?.details),
  );
  const listener = spawn(parley, ["--profile", join(dir, "cust"), "--json", "listen", "--all", "--for", "60s"], { stdio: ["ignore", "pipe", "pipe"] });
  const listened = [];
  const listenerExited = new Promise((resolve) => listener.on("exit", resolve));
  readline.createInterface({ input: listener.stdout }).on("line", (l) => { try { listened.push(JSON.parse(l)); } catch { /* not JSON */ } });
  try {
    await until("the customer's listener to connect", () => listened.some((ev) => ev.event === "connection" && ev.connected));
    const typing = await (await sdk.message.createStatus({ phoneNumberID: pnid, message_id: docMsg.id, status: "read", typing_indicator: { type: "text" } })).json();
    assert.equal(typing.success, true);
    await until("the typing indicator", () => listened.some((ev) => ev.event === "typing" && ev.typing === true));
    await (await sdk.message.createMessage({ phoneNumberID: pnid, to: custWa, type: "text", text: { body: "Two copies coming up" } })).json();
    await until("the typing indicator to stop", () => listened.some((ev) => ev.event === "typing" && ev.typing === false));
    assert.ok(listened.some((ev) => ev.event === "message" && ev.text === "Two copies coming up"));
  } finally {
    listener.kill("SIGTERM");
    await listenerExited;
  }

  // 10. Delete the media and the template.
  assert.equal((await (await sdk.media.delete({ mediaID: up.id, phoneNumberID: pnid })).json()).success, true);
  assert.equal((await (await sdk.template.delete(pnid, { name: "order_ready" })).json()).success, true);

  assert.equal(badSignatures, 0);
  assert.equal(nonASCII, 0, "a webhook body was not escaped to ASCII");
  console.log(`cloudapi e2e: ok (${changes().length} webhook changes verified with @great-detail/whatsapp)`);
} catch (e) {
  failed = true;
  console.error("cloudapi e2e FAILED:", e);
  console.error("--- server log (tail) ---\n" + log.split("\n").slice(-40).join("\n"));
} finally {
  server.kill("SIGTERM");
  await exited;
  receiver.close();
  await rm(dir, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
