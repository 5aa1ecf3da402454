package backup

// Reasons of the errors this package returns (listed in docs/protocol.md).
const (
	ReasonBadRecoveryKey = "bad_recovery_key"     // CodeInvalid: a recovery key has 64 hexadecimal characters
	ReasonBackupWrongKey = "backup_wrong_key"     // CodeForbidden: this backup was made with another recovery key
	ReasonBackupCorrupt  = "backup_corrupt"       // CodeInvalid: the backup is damaged, truncated or not a Parley backup
	ReasonBackupVersion  = "backup_version"       // CodeInvalid: the backup was made by a newer client (format version …)
	ReasonOtherAccount   = "backup_other_account" // CodeForbidden: the backup belongs to another account
	ReasonBadRecord      = "backup_bad_record"    // CodeInvalid: a record in the backup could not be read
)
