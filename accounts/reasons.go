package accounts

// Reasons of the errors this package returns, beside their codes; every
// one is listed in docs/protocol.md (the root package's reasons test checks).
const (
	ReasonAboutInvalid       = "about_invalid"        // CodeInvalid: the about line is at most … characters
	ReasonAccountSuspended   = "account_suspended"    // CodeForbidden: this account has been suspended by the server's operator
	ReasonCodeExpired        = "code_expired"         // CodeExpired: the code has expired; request a new one
	ReasonCodeWrong          = "code_wrong"           // CodeInvalid: the code is 6 digits
	ReasonDeviceNameInvalid  = "device_name_invalid"  // CodeInvalid: a device name longer than 64 characters
	ReasonIdentityKeyInvalid = "identity_key_invalid" // CodeInvalid: the identity key must be … to … bytes, got …
	ReasonLinkCodeExpired    = "link_code_expired"    // CodeExpired: the link code has expired; show a new one on the primary device
	ReasonLinkCodeUnknown    = "link_code_unknown"    // CodeNotFound: unknown or already used link code
	ReasonNameInvalid        = "name_invalid"         // CodeInvalid: a display name longer than 64 characters
	ReasonNoPendingCode      = "no_pending_code"      // CodeNotFound: no code is pending for this number; register first
	ReasonNotPrimary         = "not_primary"          // CodeForbidden: only the primary device can link devices
	ReasonNotYourDevice      = "not_your_device"      // CodeForbidden: the device belongs to another account
	ReasonPINInvalid         = "pin_invalid"          // CodeInvalid: the PIN must be … to … digits
	ReasonPINRequired        = "pin_required"         // CodeForbidden: enter the current PIN to change it
	ReasonPINWrong           = "pin_wrong"            // CodeForbidden: wrong PIN
	ReasonPhoneInvalid       = "phone_invalid"        // CodeInvalid: not a phone number in E.164 form
	ReasonPhotoInvalid       = "photo_invalid"        // CodeInvalid: a profile photo must be a JPEG image
	ReasonPhotoNotFound      = "photo_not_found"      // CodeNotFound: no profile photo (none, or hidden from the viewer)
	ReasonPhotoTooLarge      = "photo_too_large"      // CodeTooLarge: a profile photo is at most … KB and … pixels a side
	ReasonPrimaryDevice      = "primary_device"       // CodeForbidden: the primary device cannot be removed; register the number on a new device to replace it
	ReasonPrivacyInvalid     = "privacy_invalid"      // CodeInvalid: privacy settings are "everyone", "contacts" or "nobody"
	ReasonQueryInvalid       = "query_invalid"        // CodeInvalid: look up a user by exactly one of phone, username or id
	ReasonResendTooSoon      = "resend_too_soon"      // CodeRateLimited: a code was sent to this number a moment ago
	ReasonSelf               = "self"                 // CodeInvalid: that is your own account
	ReasonTooManyAttempts    = "too_many_attempts"    // CodeRateLimited
	ReasonTooManyCodes       = "too_many_codes"       // CodeRateLimited: too many codes were sent to this number
	ReasonTooManyDevices     = "too_many_devices"     // CodeTooLarge: an account can have … linked devices; remove one first
	ReasonUsernameInvalid    = "username_invalid"     // CodeInvalid: a username is … to … letters, digits, _ or ., starting with a letter
)
