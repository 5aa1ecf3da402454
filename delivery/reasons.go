package delivery

// Reasons of the errors this package returns, beside their codes; every
// one is listed in docs/protocol.md (the root package's reasons test checks).
const (
	ReasonAddNotAllowed      = "add_not_allowed"       // CodeForbidden: a direct conversation admits only its two users' devices
	ReasonBroadcastNotDirect = "broadcast_not_direct"  // CodeInvalid: a broadcast copy goes to a direct chat
	ReasonClientID           = "client_id"             // CodeInvalid: client_id must be 1 to … bytes of UTF-8
	ReasonCommitRequired     = "commit_required"       // CodeInvalid: the commit is empty
	ReasonDeviceUser         = "device_user"           // CodeInvalid: device … is not a device of user …
	ReasonDirectMembers      = "direct_members"        // CodeInvalid: a direct conversation has the devices of two users
	ReasonDuplicateMember    = "duplicate_member"      // CodeInvalid: device … is listed twice
	ReasonExternalAdds       = "external_adds"         // CodeInvalid: a resync adds and removes only the committing device
	ReasonGroupInfoRequired  = "group_info_required"   // CodeInvalid: the group info of epoch 1 is required
	ReasonGroupRequired      = "group_required"        // CodeInvalid: a group conversation is created with its group record
	ReasonKeyPackage         = "key_package"           // CodeInvalid: key package … is empty or larger than … bytes
	ReasonLastResort         = "last_resort"           // CodeInvalid: at most one last-resort key package
	ReasonPayloadTooLarge    = "payload_too_large"     // CodeTooLarge: welcome or group info larger than … bytes
	ReasonRecipientSuspended = "recipient_suspended"   // CodeForbidden: this account has been suspended; it cannot receive messages
	ReasonRemoveNotAllowed   = "remove_not_allowed"    // CodeForbidden: in a direct conversation you may remove only your own devices
	ReasonResyncNotMember    = "resync_not_member"     // CodeInvalid: only a member device rejoins by a resync external commit
	ReasonSeq                = "seq"                   // CodeInvalid: seq must not be negative
	ReasonShuttingDown       = "shutting_down"         // CodeUnavailable: the server is shutting down
	ReasonTooManyKeyPackages = "too_many_key_packages" // CodeTooLarge: a device may keep at most … key packages (has …)
	ReasonTooManyMembers     = "too_many_members"      // CodeTooLarge: at most … member devices
	ReasonTreeRef            = "tree_ref"              // CodeInvalid: ratchet_tree_ref is not a tree ref
	ReasonWelcomeRequired    = "welcome_required"      // CodeInvalid: a welcome is required to add members
)
