package attachment

// Reasons of the errors this package returns, beside their codes; every
// one is listed in docs/protocol.md (the root package's reasons test
// checks).
const (
	ReasonBadAudio       = "bad_audio"        // CodeInvalid: a voice or audio file whose format (WAV, Ogg) cannot be read
	ReasonBadDescriptor  = "bad_descriptor"   // CodeInvalid: an attachment descriptor is malformed
	ReasonBadKey         = "bad_key"          // CodeInvalid: an attachment key is not the right length
	ReasonBadLocation    = "bad_location"     // CodeInvalid: a location is not LAT,LON in decimal degrees, or out of range
	ReasonBadThumbnail   = "bad_thumbnail"    // CodeInvalid: a thumbnail is not a small enough JPEG, or has bad dimensions
	ReasonBadVCard       = "bad_vcard"        // CodeInvalid: a contact card is not a valid vCard
	ReasonBadVideo       = "bad_video"        // CodeInvalid: a video file whose format (MP4) cannot be read
	ReasonForbidden      = "forbidden"        // CodeForbidden: the blob server refused the transfer (HTTP 403)
	ReasonImageTooLarge  = "image_too_large"  // CodeTooLarge: an image has too many pixels to decode
	ReasonIncomplete     = "incomplete"       // CodeInvalid: an attachment was not read to the end, so it is not verified
	ReasonNoImageDecoder = "no_image_decoder" // CodeInvalid: images are decoded by the browser in this build
	ReasonNotAFile       = "not_a_file"       // CodeInvalid: the path names a directory, not a file
	ReasonOffsetMismatch = "offset_mismatch"  // CodeConflict: a resumed upload is not at the offset the blob server has (HTTP 409)
	ReasonServerError    = "server_error"     // CodeUnavailable: the blob server failed (HTTP 5xx)
	ReasonTampered       = "tampered"         // CodeInvalid: attachment failed verification (corrupted or tampered)
	ReasonUnavailable    = "unavailable"      // CodeUnavailable: the blob server is unavailable (HTTP 503)
)
