package profile

// Reasons of the errors this package returns, beside their codes; every
// one is listed in docs/protocol.md (the root package's reasons test checks).
const (
	ReasonBadPerson         = "bad_person"           // CodeInvalid: a person is +PHONE, @username or a user id
	ReasonBadVisibility     = "bad_visibility"       // CodeInvalid: who can see the photo: everyone, contacts or nobody
	ReasonEmptyPhoto        = "empty_photo"          // CodeInvalid: the photo is empty
	ReasonPhotoFileTooLarge = "photo_file_too_large" // CodeTooLarge: an image file for a profile photo is at most … MB
	// ReasonPhotoNotFound is the server's accounts.ReasonPhotoNotFound, named
	// here so that clients need not import the server's package.
	ReasonPhotoNotFound = "photo_not_found" // CodeNotFound: no profile photo (none, or hidden from this user)
	ReasonNotAnImage    = "not_an_image"    // CodeInvalid: not an image this client reads
)
