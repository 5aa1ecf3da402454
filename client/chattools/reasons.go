package chattools

// Reasons of the errors Tools returns, beside their codes.
const (
	ReasonNotOwnMessage = "not_own_message" // CodeInvalid: message info is shown for one's own sent messages only
	ReasonBadMute       = "bad_mute"        // CodeInvalid: a mute duration below zero other than Always
)
