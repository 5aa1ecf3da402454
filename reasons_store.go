package parley

// Reasons the stores (Store, BlobStore, CloudAPIStore) return beside their
// codes. The server passes them on to clients, so they are part of the
// protocol; every one is listed in docs/protocol.md (reasons_test.go checks).
const (
	ReasonBadBlobID           = "bad_blob_id"            // CodeInvalid: a blob id is not of the form the blob store accepts
	ReasonBlobExists          = "blob_exists"            // CodeConflict: a blob with that id is already recorded
	ReasonCommitNotFound      = "commit_not_found"       // CodeNotFound: no uploaded commit for that epoch
	ReasonDuplicateClientID   = "duplicate_client_id"    // CodeConflict: the device's client id is already in the conversation's log
	ReasonBannedFromGroup     = "banned_from_group"      // CodeForbidden: you are banned from this group
	ReasonReportHandled       = "report_handled"         // CodeConflict: this report was already resolved or dismissed
	ReasonReportNotFound      = "report_not_found"       // CodeNotFound: no such report
	ReasonInviteExists        = "invite_exists"          // CodeConflict: an invite link with that code exists
	ReasonInviteExpired       = "invite_expired"         // CodeExpired: this invite link has expired
	ReasonInviteNotFound      = "invite_not_found"       // CodeNotFound: no such invite link
	ReasonInviteRevoked       = "invite_revoked"         // CodeExpired: this invite link was revoked
	ReasonInviteUsedUp        = "invite_used_up"         // CodeExpired: this invite link has been used the most times allowed
	ReasonLastAdmin           = "last_admin"             // CodeForbidden: the group must keep an admin: promote someone first
	ReasonMediaExists         = "media_exists"           // CodeConflict: a Cloud API media record with that id exists
	ReasonNoCollection        = "no_collection"          // CodeNotFound: no such collection in the catalog
	ReasonNoInvitation        = "no_invitation"          // CodeNotFound: there is no invitation to this group
	ReasonNoProduct           = "no_product"             // CodeNotFound: no such product in the catalog
	ReasonNoQuickReply        = "no_quick_reply"         // CodeNotFound: no quick reply with that shortcut
	ReasonNoRequest           = "no_request"             // CodeNotFound: the user has not asked to join
	ReasonPhoneTaken          = "phone_taken"            // CodeConflict: phone number already registered
	ReasonRole                = "role"                   // CodeInvalid: role must be admin or member
	ReasonSizeMismatch        = "size_mismatch"          // CodeInvalid: the blob or file written is not the size declared
	ReasonTemplateExists      = "template_exists"        // CodeConflict: a message template with that name and language exists
	ReasonTokenExists         = "token_exists"           // CodeConflict: a Cloud API token with that id exists
	ReasonTooManyChatLabels   = "too_many_chat_labels"   // CodeTooLarge: a chat has at most … labels
	ReasonTooManyCollections  = "too_many_collections"   // CodeTooLarge: a catalog has at most … collections
	ReasonTooManyLabels       = "too_many_labels"        // CodeTooLarge: a business has at most … custom labels
	ReasonTooManyProducts     = "too_many_products"      // CodeTooLarge: a catalog has at most … products
	ReasonTooManyQuickReplies = "too_many_quick_replies" // CodeTooLarge: a business has at most … quick replies
	ReasonTreeExists          = "tree_exists"            // CodeConflict: this ratchet tree was uploaded by another device
	ReasonTreeNotFound        = "tree_not_found"         // CodeNotFound: no ratchet tree (or upload) for that epoch
)
