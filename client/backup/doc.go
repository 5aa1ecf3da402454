// Package backup makes and restores a client's end-to-end encrypted
// backups: a profile's chats, messages (with their media keys) and
// contacts, encrypted under a recovery key the user keeps, written to a
// file or kept by the server (which only ever holds ciphertext).
//
// NewRecoveryKey makes the key (64 hexadecimal characters); Export writes
// a backup of a local store and Import reads one into a freshly
// registered profile of the same account; Upload and Download move one to
// and from the server's /v1/backup. The container (format.go) is
// streamed in authenticated chunks; its decoder is fuzzed. The MLS group
// secrets are never in a backup: the restored device rejoins each
// conversation by an external commit (package client does that), so a
// backup cannot decrypt anything sent after it was made. See
// docs/backup.md.
package backup
