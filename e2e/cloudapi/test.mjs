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
//   node test.mjs /path/to/parley
import Client from "@great-detail/whatsapp";
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
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
const events = [];
let badSignatures = 0;
const receiverSDK = new Client();
const receiver = http.createServer(async (req, res) => {
  const url = new URL(req.url, "http://x");
  let body = "";
  for await (const c of req) body += c;
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
      await n.verifySignature(APP_SECRET);
    } catch (e) {
      badSignatures++;
      res.writeHead(401).end();
      return;
    }
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
  await register("cust", CUST, "Carol");
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
  await cli("cust", "send", "--to", BIZ, "hello shop, are you open?");
  const inbound = await waitChange("the inbound message", (c) => c.field === "messages" && c.value.messages?.[0]?.text?.body === "hello shop, are you open?");
  assert.equal(inbound.value.messages[0].from, custWa);
  assert.equal(inbound.value.metadata.phone_number_id, pnid);
  assert.equal(inbound.value.contacts[0].profile.name, "Carol");
  const inboundID = inbound.value.messages[0].id;

  // 3. Text, as a reply.
  const textRes = await (await sdk.message.createMessage({ phoneNumberID: pnid, to: "+" + custWa, type: "text",
    text: { body: "Yes, open until 18:00" }, context: { message_id: inboundID } })).json();
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
  await (await sdk.message.createMessage({ phoneNumberID: pnid, to: custWa, type: "template", template: { name: "order_ready", language: { code: "en_US" },
    components: [{ type: "body", parameters: [{ type: "text", text: "#42" }, { type: "text", text: "pick-up" }] }] } })).json();

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

  // 10. Delete the media and the template.
  assert.equal((await (await sdk.media.delete({ mediaID: up.id, phoneNumberID: pnid })).json()).success, true);
  assert.equal((await (await sdk.template.delete(pnid, { name: "order_ready" })).json()).success, true);

  assert.equal(badSignatures, 0);
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
