package main

const usageText = `parley — end-to-end encrypted messaging

usage: parley [--json] [--profile DIR] [--timeout D] [-v] COMMAND [flags] [args]

global flags (before the command):
  --json          print one JSON object per line (stable snake_case keys);
                  errors go to stderr as {"error":CODE,"reason":…,"message":…}
  --profile DIR   the device profile to use (default $PARLEY_PROFILE or ~/.parley)
  --timeout D     give up on a client command after D (default 30s)
  -v              log connection activity to stderr

server:
  serve --data DIR --listen HOST:PORT     run a Parley server
  bench SCENARIO                          benchmark (connect|direct|offline|fanout|media|community|all)
  admin backup|restore                    online backup of a server's data, restore into an empty directory

account:
  account register --server URL --phone E164 --name NAME
  account verify --code CODE [--pin PIN]
  account username NAME | --remove
  account privacy [--find-by-phone everyone|contacts|nobody] [--last-seen everyone|contacts|nobody]
  account pin set PIN [--old OLD] | account pin remove --old OLD
  whoami

devices:
  device link                              on the primary: print a link code
  device add --server URL --code CODE [--name NAME]
                                           on the new device's profile: link it
  device list
  device remove ID

messaging (CHAT is a chat id, +PHONE or @username; MESSAGE_ID is CHAT_ID:SEQ,
as send, listen and history print it):
  send --to PHONE|@USERNAME|CHAT TEXT      send; exits once the server has it ("sent")
  send --to CHAT --reply-to MESSAGE_ID TEXT  reply to (quote) a message
  send --to CHAT --file PATH [--caption TEXT]
                                           send a photo, video or document (encrypted, up to 2 GiB)
  send --to CHAT --voice PATH              send a voice note (WAV, Ogg)
  send --to CHAT --location LAT,LON [--name NAME]
  send --to CHAT --contact NAME,PHONE      send a contact card (vCard)
  forward MESSAGE_ID --to CHAT             forward a message (files are not uploaded again)
  media get MESSAGE_ID [-o PATH]           download, decrypt and verify a message's file
  group …                                  groups: create, add, remove, promote, demote, settings,
                                           invite, join, requests, leave … (parley group help)
  community …                              communities: create, add, remove, add-group, groups,
                                           join-group … (parley community help)
  announce COMMUNITY TEXT                  post to a community's announcement group (admins)
  reply | react | edit | delete MESSAGE_ID …  message kinds; poll create|vote|show;
                                           chat disappear CHAT 24h|7d|90d|off; view CHAT
                                           (docs/groups.md)
  listen [--for DURATION] [--count N] [--all]
                                           print messages and receipts as they arrive
  chats                                    list chats
  chat resync CHAT                         rejoin a chat whose encryption state broke on this
                                           device (done by itself when it detects that)
  history CHAT [--limit N]                 show a chat's messages with their status
  read CHAT                                mark a chat read (sends read receipts)
  verify CONTACT                           show the safety number to compare
  business …                               business accounts: profile, catalog, quick replies, labels,
                                           greeting/away, API tokens, templates, webhooks, insights
                                           (parley business help)
  block CONTACT | unblock CONTACT
  contacts add CONTACT | contacts remove CONTACT | contacts list

exit codes:
  0  ok                  7  conflict (e.g. username taken)
  1  internal error      8  rate limited
  2  usage               9  too large
  3  invalid input       10 blocked by the recipient
  4  unauthenticated     11 expired (code or link)
  5  forbidden           12 server unavailable (or timed out)
  6  not found
`
