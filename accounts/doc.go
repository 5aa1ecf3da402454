// Package accounts is Parley's account service: phone-number registration
// with verification codes, device credentials and linking, usernames, the
// two-step PIN, contacts, blocks and privacy. It is transport independent:
// the gateway calls it, and every failure is a *parley.Error whose Code and
// Reason are listed on each method.
//
// Guarantees:
//
//   - Secrets never rest in the clear. The store keeps an HMAC-SHA256 under
//     a server key (Config.CodeKey) of every verification and link code,
//     SHA-256 of device secrets (256 random bits), and an argon2id hash of
//     the PIN. Codes and secrets come from crypto/rand; device secrets are 32
//     bytes and are returned exactly once, by Verify or LinkDevice. The
//     service logs no code, secret or PIN, and masks phone numbers in logs
//     (DevSender, for development, logs the code on purpose).
//   - Abuse limits (Config.Limits, limits.go) are keyed on the attacker:
//     per account, number, device or country prefix as well as per client
//     address, and a valid device credential or link code is never refused
//     for others' failures. The per-number sending limits, the per-code
//     attempt counter (the Verification record) and the PIN's guess budget
//     (parley.CounterStore) survive restarts and are shared by cluster
//     nodes; the other counters are in Config.Limiter (in-process by
//     default). Within one process, operations on one
//     phone number or one user are serialised, so the limits are exact on a
//     single node; across nodes two simultaneous requests can each pass a
//     check once (the store has no compare-and-swap on verifications).
//   - Verification codes are 6 digits, valid for Config.CodeTTL, single use,
//     and void after Config.MaxVerifyAttempts wrong codes or PINs; only the
//     latest code sent to a number is valid.
//   - Re-registering a number keeps the account (ID, username, contacts,
//     PIN) and revokes every device it had before the new primary is created;
//     Verify reports the revoked devices and the conversations they left so
//     the caller can notify. Link codes created before the current primary
//     are void.
//   - Nothing reveals whether a phone number is registered to someone the
//     owner's "find me by phone" setting excludes: Resolve answers
//     CodeNotFound exactly as for an unknown number.
//   - Devices returned by the service never carry the secret hash.
package accounts
