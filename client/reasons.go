package client

import "github.com/parleyhq/parley/apiclient"

// Reasons of the errors this package returns, beside their codes; every
// one is listed in docs/protocol.md (the root package's reasons test
// checks).
const (
	ReasonAccountChanged     = "account_changed"            // CodeUnavailable: the account changed (verify or link finished) while connecting
	ReasonAdminsOnlyEveryone = "admins_only_everyone"       // CodeForbidden: only group admins can mention @everyone
	ReasonAlreadyRegistered  = "already_registered"         // CodeConflict: this profile is already registered
	ReasonAmbiguousGroup     = "ambiguous_group"            // CodeInvalid: several groups or invitations match the name: use the group id
	ReasonBadContact         = "bad_contact"                // CodeInvalid: a contact is not +PHONE, @username or a user id
	ReasonBadCredential      = "bad_credential"             // CodeForbidden: a device's signature key does not match its published identity key
	ReasonBadReply           = "bad_reply"                  // CodeInternal: the server answered with an unexpected message
	ReasonBadSeq             = "bad_seq"                    // CodeInvalid: nothing to mark read
	ReasonClosed             = "closed"                     // CodeUnavailable: the client is closed
	ReasonCommitTooLarge     = "commit_too_large"           // CodeTooLarge: the commit and its Welcome are too large for the server
	ReasonDeleteWindow       = "delete_window"              // CodeExpired: messages can be deleted for everyone only for a while after sending
	ReasonEditWindow         = "edit_window"                // CodeExpired: messages can be edited only for a while after sending
	ReasonEmoji              = "emoji"                      // CodeInvalid: a reaction is one emoji
	ReasonEmptyQuery         = "empty_query"                // CodeInvalid: the search query is empty
	ReasonMessageDeleted     = "message_deleted"            // CodeNotFound: the message was deleted
	ReasonNeedsUpload        = "needs_upload"               // CodeInvalid: a file is sent with SendFileTo
	ReasonNoChat             = "no_chat"                    // CodeNotFound: no chat with that contact
	ReasonNoConnection       = "no_connection"              // CodeUnavailable: not connected to the server
	ReasonNoDevices          = "no_devices"                 // CodeNotFound: the user has no device that can receive messages
	ReasonNoProfile          = "no_profile"                 // CodeInvalid: no profile directory given
	ReasonNoStore            = "no_store"                   // CodeInvalid: set Config.Store: there is no default local store in the browser
	ReasonNotAuthenticated   = "not_authenticated"          // CodeUnavailable: the session is not authenticated
	ReasonNotPoll            = "not_poll"                   // CodeInvalid: the message is not a poll
	ReasonNotRegistering     = "not_registering"            // CodeInvalid: run account register first
	ReasonNotSender          = "not_sender"                 // CodeForbidden: only the sender edits or deletes a message (or a group admin deletes)
	ReasonNotText            = "not_text"                   // CodeInvalid: only text messages can be edited
	ReasonPoll               = "poll"                       // CodeInvalid: a poll has a question and 2 to … options
	ReasonPollOption         = "poll_option"                // CodeInvalid: poll options are distinct, not empty, and at most … bytes
	ReasonProfileInUse       = "profile_in_use"             // CodeConflict: the profile is in use by another parley process
	ReasonQueryTooLong       = "query_too_long"             // CodeInvalid: a search query has at most … bytes
	ReasonRemoveSelf         = "remove_self"                // CodeInvalid: use leave to leave a group
	ReasonTreeTransfer       = apiclient.ReasonTreeTransfer // CodeInternal, CodeUnavailable: uploading or fetching a ratchet tree failed
	ReasonUnknownDevice      = "unknown_device"             // CodeForbidden: the device is not a device of the user it claims
)
