// The TypeScript types of globalThis.parley: the Go client core (package
// client) compiled to WebAssembly by web/wasm and exposed to the UI.
//
// Conventions of the bridge (web/wasm/main.go keeps them true):
//   - Every method returns a Promise; it runs in its own goroutine.
//   - Failures reject with a ParleyError {code, reason, message} (the Go
//     parley.Error); never with a bare string.
//   - IDs: users and devices are numbers (int64 in Go, safe below 2^53);
//     chats are strings ("c…"); a message is named by its MessageId
//     "<chat>:<seq>" ("" while pending).
//   - Times are milliseconds since the Unix epoch; 0 means "none/unknown".
//     Durations are milliseconds.
//   - Keys and capabilities of attachments never leave the wasm module:
//     media() returns the decrypted Blob instead.
//   - One tab at a time: while another tab or window of this browser runs
//     Parley, every call rejects with {code: "conflict", reason:
//     "open_in_another_tab"} (two copies of one device would fork its MLS
//     state). Without IndexedDB (some private modes) every call rejects
//     with {code: "unavailable", reason: "no_indexeddb"}.
//   - A "chat ref" (ChatRef) is a chat id, "+E164", "@username", a user id
//     as a string, or a group's unambiguous name — as the Go client accepts.
//
// UI: ask for additions with a `// WANT: …` comment in this file.

export type UserId = number;
export type DeviceId = number;
export type ChatId = string;
export type Seq = number;
/** "<chat id>:<seq>" */
export type MessageId = string;
/** a chat id, "+E164", "@username", a user id, or a group name */
export type ChatRef = string;

export type ErrorCode =
  | "invalid"
  | "unauthenticated"
  | "forbidden"
  | "not_found"
  | "conflict"
  | "rate_limited"
  | "too_large"
  | "blocked"
  | "expired"
  | "unavailable"
  | "internal";

/** What every rejected promise carries. */
export interface ParleyError {
  code: ErrorCode;
  /** a stable machine-readable reason, e.g. "bad_code", "username_taken" */
  reason: string;
  /** a human-readable message (English) */
  message: string;
}

export type Visibility = "everyone" | "contacts" | "nobody";

export interface Account {
  serverUrl: string;
  user: UserId;
  device: DeviceId;
  phone: string;
  name: string;
  primary: boolean;
}

export interface Status {
  /** the browser is a registered device (has credentials) */
  registered: boolean;
  /** the session to the server is up */
  connected: boolean;
  /** set once registered; during registration phone/name/serverUrl only */
  account?: Account;
  /** the server this page was loaded from (location.origin) */
  serverUrl: string;
}

export interface Registration {
  phone: string; // normalised E.164
  expiresInMs: number;
  resendAfterMs: number;
}

export interface LinkCode {
  code: string;
  expiresInMs: number;
}

export interface DeviceKey {
  device: DeviceId;
  user: UserId;
  name: string;
  primary: boolean;
  /** base64 of the published MLS identity key */
  identityKey: string;
  revoked: boolean;
  createdAt: number;
}

export interface Contact {
  user: UserId;
  name: string;
  username: string;
  phone: string; // "" when hidden from us
  contact: boolean;
  blocked: boolean;
  devices: DeviceKey[];
}

/** what this user may see of someone's profile (docs/decisions/0005-profile-photos.md) */
export interface Profile {
  user: UserId;
  name: string;
  username?: string;
  phone?: string; // absent when hidden from us
  about: string;
  /** names the current photo; "" when there is none or it is hidden from us */
  photoTag: string;
  /** how they are shown: name, else @username, number or id */
  title: string;
}

export interface SafetyNumber {
  /** 60 digits in 12 groups of 5, separated by spaces */
  number: string;
  contact: Contact;
}

export type ChatKind = "direct" | "group";

export interface Chat {
  id: ChatId;
  kind: ChatKind;
  /** the other user of a direct chat (this user for notes to self); 0 for groups */
  peer: UserId;
  title: string;
  cursor: Seq;
  unread: number;
  /** the last message's text; "[kind] caption" for media */
  lastText: string;
  updatedAt: number;
  muted: boolean;
  pinned: boolean;
  archived: boolean;
  /** Unix ms until which the chat is muted (0: not for a while; `muted` is for good) */
  mutedUntil: number;
  /** marked unread by hand, until opened */
  markedUnread: boolean;
}

export interface Presence {
  user: UserId;
  online: boolean;
  /** Unix ms; 0 when unknown or hidden */
  lastSeen: number;
}

export interface ChatFlags {
  muted?: boolean;
  pinned?: boolean;
  archived?: boolean;
}

export type MessageStatus = "pending" | "sent" | "delivered" | "read" | "received";

export type MessageKind =
  | "text"
  | "image"
  | "video"
  | "voice"
  | "document"
  | "location"
  | "contact"
  | "poll"
  | "deleted"
  | "undecryptable"
  | "unsupported"
  | "system";

export interface Location {
  lat: number;
  lon: number;
  name?: string;
}

/** An attachment as the UI may see it (no key or capability). */
export interface Media {
  kind: "image" | "video" | "voice" | "document" | "location" | "contact";
  mime: string;
  size: number; // plaintext bytes
  fileName: string;
  width: number;
  height: number;
  durationMs: number;
  /** voice-note levels 0–255 */
  waveform: number[];
  pages: number;
  /** "data:image/jpeg;base64,…" or "" */
  thumbnail: string;
  location?: Location;
  vcard?: string;
}

export interface Message {
  /** "<chat>:<seq>"; "" while pending */
  id: MessageId;
  chat: ChatId;
  seq: Seq; // 0 while pending
  clientId: string;
  sender: UserId;
  senderDevice: DeviceId;
  outgoing: boolean;
  kind: MessageKind | string;
  /** text, or a media message's caption */
  text: string;
  media?: Media;
  forwarded: boolean;
  sentAt: number; // sender's clock
  storedAt: number;
  status: MessageStatus;
}

export interface BroadcastRecipient {
  user: UserId;
  title: string;
}

export interface BroadcastList {
  id: string;
  name: string;
  recipients: BroadcastRecipient[];
}

export interface BroadcastEdit {
  rename?: string;
  add?: string[];
  remove?: string[];
}

export interface BroadcastCopy {
  user: UserId;
  title: string;
  /** the 1:1 chat ("" when refused) */
  chat: ChatId | "";
  /** why the copy was refused; "" when the server accepted it (accepted is not delivered) */
  error: string;
}

export interface BroadcastSent {
  list: string;
  copies: BroadcastCopy[];
}

/** A status (a 24-hour story; docs/status.md), as this device can read it. */
export interface StatusPost {
  id: string;
  poster: UserId;
  posterName: string;
  /** "text", "image", "video", "voice"; "" when it cannot be read here (error says why) */
  kind: string;
  text?: string;
  /** a text status's background, "#rrggbb" */
  background?: string;
  /** a text status's font: sans, serif, mono, script or bold */
  font?: string;
  mediaType?: string;
  mediaSize?: number;
  /** a data: URL of a media status's thumbnail */
  thumb?: string;
  createdAt: number;
  expiresAt: number;
  mine: boolean;
  seen: boolean;
  /** views of a status of mine */
  views: number;
  muted: boolean;
  error?: string;
}

export interface StatusViewer {
  user: UserId;
  name: string;
  at: number;
}

export interface StatusPostOptions {
  text: string;
  background?: string;
  font?: string;
  /** "contacts", "except:+P,…" or "only:+P,…"; omitted: the default audience */
  audience?: string;
}

export interface StatusSettings {
  /** the default audience of new statuses (posted ones keep theirs) */
  audience: string;
  /** view receipts: viewing a status tells its poster */
  receipts: boolean;
}

export interface PollSpec {
  question: string;
  options: string[];
  multi?: boolean;
}

export interface PollResult extends PollSpec {
  /** user id (as string key) → chosen option indexes */
  votes: Record<string, number[]>;
  tallies: number[];
}

/** What replies, mentions, reactions, edits, deletes and polls add to a message. */
export interface Extras {
  replyTo: Seq; // 0: not a reply
  mentions: UserId[];
  everyone: boolean;
  edited: boolean;
  editedAt: number;
  deleted: boolean;
  deletedByAdmin: boolean;
  /** user id (as string key) → emoji */
  reactions: Record<string, string>;
  poll?: PollResult;
  /** the status this message replies to privately */
  status?: StatusQuote;
}

/** The status a private reply quotes. */
export interface StatusQuote {
  id: string;
  poster: UserId;
  kind: string;
  preview: string;
  /** a media status's small preview, base64 */
  thumb?: string;
}

/** A media status's decrypted file. */
export interface StatusMedia {
  type: string;
  /** base64 */
  data: string;
}

export interface History {
  chat: Chat;
  messages: Message[]; // oldest first
}

/** when one member received and read a message (Unix ms; 0: not yet) */
export interface MemberReceipt {
  user: UserId;
  name: string;
  deliveredAt: number;
  readAt: number;
}

/** Message info of one's own message: per member delivery and read times */
export interface MessageInfo {
  message: Message;
  members: MemberReceipt[];
}

export interface SearchHit {
  chat: ChatId;
  chatTitle: string;
  message: Message;
}

export type MediaKind = "image" | "video" | "voice" | "document";

export interface SendMediaOptions {
  /** how to present the file; default: by its MIME type (image/video else document) */
  kind?: MediaKind;
  caption?: string;
  /** voice notes and videos recorded in the browser */
  durationMs?: number;
  /** a voice note's levels 0–255 (at most 64), e.g. from Web Audio: the core cannot decode Opus */
  waveform?: number[];
  /** file name (defaults to File.name, or "file") */
  name?: string;
  /** defaults to Blob.type */
  mime?: string;
  /**
   * an image's or video's preview made by the page ("data:image/jpeg;base64,…",
   * at most 64 KiB, e.g. canvas.toDataURL("image/jpeg")) with the file's
   * width and height: the core has no image decoders in the browser
   */
  thumbnail?: string;
  width?: number;
  height?: number;
}

/** Upload progress: bytes of ciphertext acknowledged by the server. */
export type Progress = (sent: number, total: number) => void;

// ---- groups and communities ----

export interface GroupMember {
  user: UserId;
  admin: boolean;
  joinedAt: number;
  devices: DeviceKey[];
}

export interface Group {
  id: ChatId;
  name: string;
  description: string;
  icon: string;
  onlyAdminsSend: boolean;
  onlyAdminsEditInfo: boolean;
  /** community sub-groups: members ask to join and an admin approves */
  joinApproval: boolean;
  createdBy: UserId;
  createdAt: number;
  members: GroupMember[];
  /** own id for a community, the community's id for a sub-group, else "" */
  community: ChatId;
  isCommunity: boolean;
}

export interface GroupOptions {
  description?: string;
  icon?: string;
  onlyAdminsSend?: boolean;
  onlyAdminsEditInfo?: boolean;
  /** create as a sub-group of this community (its admins only) */
  community?: ChatId;
}

export interface GroupAddResult {
  group: Group;
  added: UserId[];
  invited: UserId[];
}

export interface GroupUpdate {
  name?: string;
  description?: string;
  icon?: string;
  onlyAdminsSend?: boolean;
  onlyAdminsEditInfo?: boolean;
  joinApproval?: boolean;
}

export interface GroupInvitation {
  group: ChatId;
  name: string;
  invitedBy: UserId;
  at: number;
}

export interface InviteLink {
  id: string;
  /** "parley://join/<token>": only right after creating it */
  link: string;
  group: ChatId;
  createdBy: UserId;
  createdAt: number;
  expiresAt: number; // 0: never
  maxUses: number; // 0: unlimited
  uses: number;
  approve: boolean;
  revoked: boolean;
}

export interface LinkOptions {
  expiresInMs?: number;
  maxUses?: number;
  approve?: boolean;
}

export interface JoinResult {
  group: Group; // for a pending request only id and name
  pending: boolean;
}

export interface JoinRequest {
  user: UserId;
  at: number;
}

export interface CommunityGroup {
  id: ChatId;
  name: string;
  description: string;
  members: number;
  member: boolean;
  /** joining needs an admin's approval; pending: this user asked */
  joinApproval: boolean;
  pending: boolean;
}

// ---- backups (docs/backup.md) ----

/** this browser's backup setting */
export interface BackupStatus {
  daily: boolean;
  /** a recovery key is kept in this browser (for its later backups) */
  hasKey: boolean;
  /** Unix ms of the last backup (0: none), and its size in bytes */
  lastAt: number;
  lastBytes: number;
  /** the error of the last scheduled attempt, "" when it worked */
  lastError: string;
  /** only in the answer that made a new key: show it once, the user writes it down */
  recoveryKey?: string;
}

export interface BackupMade extends BackupStatus {
  chats: number;
  messages: number;
  contacts: number;
}

/** the account's backup on the server, if any */
export interface BackupOnServer {
  exists: boolean;
  bytes: number;
  /** Unix ms of its upload */
  at: number;
}

export interface BackupRestored {
  /** Unix ms: when the backup was made */
  createdAt: number;
  chats: number;
  messages: number;
  contacts: number;
  /** chats that could not be rejoined */
  skippedChats: number;
}

// ---- events ----

export interface Receipt {
  kind: "delivered" | "read";
  user: UserId;
  device: DeviceId;
  seq: Seq;
  at: number;
  /** this user's outgoing messages whose status it raised */
  updated: Message[];
}

export type ParleyEvent =
  | { kind: "message"; chat: ChatId; message: Message }
  | { kind: "receipt"; chat: ChatId; receipt: Receipt }
  | { kind: "typing"; chat: ChatId; user: UserId; typing: boolean }
  | { kind: "presence"; user: UserId; online: boolean; lastSeen: number }
  | { kind: "conversation"; chat: ChatId }
  | { kind: "connection"; connected: boolean; error?: string }
  /** a message's extras changed (reaction, edit, delete, vote) */
  | { kind: "extras"; chat: ChatId; seq: Seq };

// ---- the API ----

/** a report's choices (parley.report) */
export interface ReportOptions {
  reason: "spam" | "abuse" | "other";
  text: string;
  /** how many of the chat's latest messages to include (0: none) */
  include: number;
  block: boolean;
}

export interface ReportFiled {
  id: number;
  included: number;
  blocked: boolean;
}

/** a report about a group as its admins see it: no reporter, no included messages */
export interface GroupReport {
  id: number;
  target: "user" | "chat" | "message";
  /** the reported person, 0 when none */
  user: UserId;
  /** the reported message's seq, 0 for a report of the chat */
  seq: Seq;
  category: string;
  text: string;
  status: "open" | "resolved" | "dismissed";
  createdAt: number;
}

export interface GroupBan {
  user: UserId;
  by: UserId;
  /** Unix ms */
  at: number;
}

export interface Parley {
  /** the bridge's version string, e.g. "parley-web/0.1 go1.26" */
  readonly version: string;

  status(): Promise<Status>;

  // account
  /** ask the server (this page's origin) to send a verification code */
  register(phone: string, name: string): Promise<Registration>;
  verify(code: string, pin?: string): Promise<Account>;
  /** (primary device) a short-lived code that links another device */
  linkCode(): Promise<LinkCode>;
  /** make this browser a linked device of the account that showed code */
  linkDevice(code: string, server?: string): Promise<Account>;
  setUsername(username: string): Promise<void>;
  setPrivacy(p: { findByPhone: Visibility; lastSeen: Visibility }): Promise<void>;
  /** set (old: the current PIN, if any) or clear (pin "") the two-step PIN */
  setPIN(pin: string, old?: string): Promise<void>;
  devices(): Promise<DeviceKey[]>;
  removeDevice(device: DeviceId): Promise<void>;

  // people
  /** "+E164", "@username" or a user id */
  resolve(who: string): Promise<Contact>;
  contacts(): Promise<Contact[]>;
  addContact(who: string): Promise<Contact>;
  removeContact(who: string): Promise<Contact>;
  block(who: string): Promise<Contact>;
  unblock(who: string): Promise<Contact>;
  safetyNumber(who: string): Promise<SafetyNumber>;

  // profiles
  /** someone's profile ("+E164", "@username", a user id) or, with "", this user's */
  profile(who: string): Promise<Profile>;
  setProfileName(name: string): Promise<void>;
  setAbout(about: string): Promise<void>;
  /** set the profile photo: a JPEG (at most 64 KiB) as base64; returns its tag */
  setProfilePhoto(jpegBase64: string): Promise<string>;
  removeProfilePhoto(): Promise<void>;
  /** who can see my profile photo (the server enforces it) */
  setPhotoPrivacy(who: Visibility): Promise<void>;
  /** a user's photo as a data: URL; null when they have none or hide it from us */
  profilePhoto(user: UserId, tag?: string): Promise<string | null>;
  /** online and last seen, as the user's privacy settings let this user see them (hidden: offline, lastSeen 0) */
  presence(user: UserId): Promise<Presence>;
  /** display name of a user as this device knows it (name, @username, phone or "u42") */
  who(user: UserId): Promise<string>;

  // chats
  /** most recently active first */
  chats(): Promise<Chat[]>;
  chat(ref: ChatRef): Promise<Chat>;
  /** the chat with a person, created (without a first message) when there is none */
  openChat(ref: ChatRef): Promise<Chat>;
  /** the last `limit` messages (all when <= 0), oldest first */
  history(ref: ChatRef, limit: number): Promise<History>;
  /** on-device full-text search (case-insensitive substring), newest first; chat narrows it */
  search(query: string, chat?: ChatRef, limit?: number): Promise<SearchHit[]>;
  setChatFlags(ref: ChatRef, flags: ChatFlags): Promise<Chat>;
  /** marks the chat read up to its latest message, and clears "marked unread" */
  markRead(ref: ChatRef): Promise<Seq>;
  /** mute for forMs milliseconds; -1: always; 0: unmute (this device only) */
  mute(ref: ChatRef, forMs: number): Promise<Chat>;
  /** mark the chat unread until it is opened (on = false clears it) */
  markUnread(ref: ChatRef, on?: boolean): Promise<Chat>;
  typing(ref: ChatRef, typing: boolean): Promise<void>;
  /** disappearing messages timer; 0 turns it off */
  setDisappearing(ref: ChatRef, ttlMs: number): Promise<void>;
  disappearing(ref: ChatRef): Promise<number>;

  // messages
  /** send text to a person ("+E164", "@username": creates the chat) or a chat */
  send(to: ChatRef, text: string): Promise<Message>;
  /** text to a chat, optionally replying to a seq; resolves @mentions */
  sendText(chat: ChatRef, text: string, replyTo?: Seq): Promise<Message>;
  /** encrypt and upload a file, then send it; onProgress as the upload advances */
  sendMedia(to: ChatRef, file: Blob | File, opts?: SendMediaOptions, onProgress?: Progress): Promise<Message>;
  sendLocation(to: ChatRef, lat: number, lon: number, name?: string): Promise<Message>;
  sendContact(to: ChatRef, vcard: string): Promise<Message>;
  forward(message: MessageId, to: ChatRef): Promise<Message>;

  // status: 24-hour stories, end-to-end encrypted (docs/status.md)
  /** the statuses shared with this user and its own, newest first */
  statuses(withMuted?: boolean): Promise<StatusPost[]>;
  /** a text status for 24 hours */
  postStatus(options: StatusPostOptions): Promise<{ id: string; audience: number; expiresAt: number }>;
  /** someone's statuses ("me" for one's own), oldest first; marks them seen and sends view receipts unless off */
  viewStatus(who: string): Promise<StatusPost[]>;
  statusViewers(id: string): Promise<StatusViewer[]>;
  /** a media status's file, decrypted */
  statusMedia(id: string): Promise<StatusMedia>;
  deleteStatus(id: string): Promise<void>;
  /** a private reply in the 1:1 chat, quoting the status */
  replyStatus(id: string, text: string): Promise<Message>;
  /** mute (on, the default) or unmute someone's statuses on this device */
  muteStatus(who: string, on?: boolean): Promise<Contact>;
  statusSettings(): Promise<StatusSettings>;
  setStatusSettings(settings: Partial<StatusSettings>): Promise<StatusSettings>;

  // broadcast lists (kept on this device; docs/broadcast.md)
  broadcasts(): Promise<BroadcastList[]>;
  /** up to 256 of this user's contacts ("+E164", "@username" or user id) */
  createBroadcast(name: string, to: string[]): Promise<BroadcastList>;
  editBroadcast(name: string, edit: BroadcastEdit): Promise<BroadcastList>;
  deleteBroadcast(name: string): Promise<void>;
  /** each copy an ordinary message in the 1:1 chat; only recipients who have this user in contacts get it */
  sendBroadcast(name: string, text: string): Promise<BroadcastSent>;
  /** "" removes this user's reaction */
  react(message: MessageId, emoji: string): Promise<void>;
  edit(message: MessageId, text: string): Promise<void>;
  /** delete for everyone */
  deleteMessage(message: MessageId): Promise<void>;
  /** delete from this device only (anyone's message) */
  deleteForMe(message: MessageId): Promise<void>;
  /** star (on, the default) or unstar a message, on this device */
  star(message: MessageId, on?: boolean): Promise<void>;
  /** starred messages of a chat, or of every chat; the most recently starred first */
  starred(chat?: ChatRef): Promise<SearchHit[]>;
  /**
   * report a person ("+E164", "@username", user id), a chat or a message to the
   * server's operator (a group's admins see reports about their group, without
   * the reporter or included messages); include: the chat's last N messages
   * (0–10), decrypted on this device and sent to the operator
   */
  report(target: string, opts: ReportOptions): Promise<ReportFiled>;
  /** delivery and read times per member of one's own message */
  messageInfo(message: MessageId): Promise<MessageInfo>;
  createPoll(chat: ChatRef, poll: PollSpec): Promise<Message>;
  /** no choices retracts the vote */
  vote(message: MessageId, choices: number[]): Promise<void>;
  /** extras of the given messages of a chat, keyed by seq (as string) */
  extras(chat: ChatId, seqs: Seq[]): Promise<Record<string, Extras>>;
  message(id: MessageId): Promise<Message>;
  /** download and decrypt an attachment on this device */
  media(message: MessageId, onProgress?: Progress): Promise<Blob>;

  // groups
  groups(): Promise<Group[]>;
  /** a group by chat id or unambiguous name, with members' devices */
  group(ref: ChatRef): Promise<Group>;
  createGroup(name: string, members: string[], opts?: GroupOptions): Promise<GroupAddResult>;
  addGroupMembers(ref: ChatRef, members: string[]): Promise<GroupAddResult>;
  removeGroupMember(ref: ChatRef, member: string): Promise<void>;
  setGroupAdmin(ref: ChatRef, member: string, admin: boolean): Promise<void>;
  updateGroup(ref: ChatRef, u: GroupUpdate): Promise<Group>;
  leaveGroup(ref: ChatRef): Promise<void>;
  inviteToGroup(ref: ChatRef, member: string): Promise<void>;
  groupInvitations(): Promise<GroupInvitation[]>;
  acceptGroupInvitation(ref: ChatRef): Promise<Group>;
  declineGroupInvitation(ref: ChatRef): Promise<void>;
  /** who may add this user to groups: "everyone" | "contacts" | "nobody" */
  setGroupAddPrivacy(who: Visibility): Promise<void>;
  createInviteLink(ref: ChatRef, opts?: LinkOptions): Promise<InviteLink>;
  inviteLinks(ref: ChatRef): Promise<InviteLink[]>;
  revokeInviteLink(ref: ChatRef, link: string): Promise<void>;
  /** "parley://join/<token>" or the bare token */
  joinByLink(link: string): Promise<JoinResult>;
  joinRequests(ref: ChatRef): Promise<JoinRequest[]>;
  /** (the group's or its community's admins) reports about the group; status "" for all */
  groupReports(ref: ChatRef, status: string): Promise<GroupReport[]>;
  /** remove a member and keep them out (links, requests, invitations, adds) until unbanned */
  banFromGroup(ref: ChatRef, member: string): Promise<void>;
  unbanFromGroup(ref: ChatRef, member: string): Promise<void>;
  groupBans(ref: ChatRef): Promise<GroupBan[]>;
  decideJoinRequest(ref: ChatRef, user: UserId, approve: boolean): Promise<void>;

  // communities
  createCommunity(name: string, members: string[], opts?: GroupOptions): Promise<GroupAddResult>;
  createCommunityGroup(community: ChatRef, name: string, members: string[], opts?: GroupOptions): Promise<GroupAddResult>;
  addCommunityGroup(community: ChatRef, group: ChatRef): Promise<void>;
  removeCommunityGroup(community: ChatRef, group: ChatRef): Promise<void>;
  communityGroups(community: ChatRef): Promise<CommunityGroup[]>;
  /** joins, or asks to join a sub-group that needs approval (pending) */
  joinCommunityGroup(community: ChatRef, group: ChatRef): Promise<JoinResult>;
  announce(community: ChatRef, text: string): Promise<Message>;

  // web push
  /** the server's VAPID public key, base64url (for PushManager.subscribe applicationServerKey) */
  vapidKey(): Promise<string>;
  /** register PushSubscription.toJSON() for this device */
  subscribePush(subscription: PushSubscriptionJSON): Promise<void>;
  unsubscribePush(endpoint: string): Promise<void>;

  // backups: end-to-end encrypted, to the server, under a recovery key
  backupStatus(): Promise<BackupStatus>;
  /** whether the account has a backup on the server (without downloading it) */
  backupOnServer(): Promise<BackupOnServer>;
  /** back up to the server now (a first backup makes the recovery key) */
  backupCreate(): Promise<BackupMade>;
  /** daily backups while the page is open; on makes one at once when the last is a day old */
  backupSetDaily(on: boolean): Promise<BackupStatus>;
  /** (a freshly registered browser) bring back the server's backup and rejoin its chats */
  backupRestore(recoveryKey: string): Promise<BackupRestored>;

  /** subscribe to events; returns the unsubscribe function */
  onEvent(cb: (ev: ParleyEvent) => void): () => void;
}

declare global {
  // eslint-disable-next-line no-var
  var parley: Parley | undefined;
  /** set by the wasm module once globalThis.parley is ready */
  // eslint-disable-next-line no-var
  var parleyReady: (() => void) | undefined;
}

/** Narrow an unknown rejection to a ParleyError. */
export function isParleyError(e: unknown): e is ParleyError {
  return typeof e === "object" && e !== null && "code" in e && "reason" in e && "message" in e;
}
