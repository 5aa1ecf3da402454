package parley

import (
	"fmt"
	"strconv"
	"strings"
)

// DeviceCredential returns the MLS credential identity of a device (the
// identity of its BasicCredential): "<user id>:<device id>" in decimal.
// Every leaf of a Parley MLS group carries one, which is how the server
// and the clients tell whose device a leaf is.
func DeviceCredential(u UserID, d DeviceID) string {
	return strconv.FormatInt(int64(u), 10) + ":" + strconv.FormatInt(int64(d), 10)
}

// ParseDeviceCredential parses a DeviceCredential. It fails for anything
// else, including ids that are not positive and any other spelling of the
// numbers (signs, leading zeros), so one device has one credential.
func ParseDeviceCredential(s string) (UserID, DeviceID, error) {
	us, ds, ok := strings.Cut(s, ":")
	if ok {
		u, err1 := strconv.ParseInt(us, 10, 64)
		d, err2 := strconv.ParseInt(ds, 10, 64)
		if err1 == nil && err2 == nil && u > 0 && d > 0 && DeviceCredential(UserID(u), DeviceID(d)) == s {
			return UserID(u), DeviceID(d), nil
		}
	}
	return 0, 0, fmt.Errorf("credential %q: want <user>:<device>", s)
}

// CommitRefPrefix starts the log payload of a commit sent out of band
// (CommitRequest.commit_ref): the payload is CommitRefPrefix followed by the
// ref, and members fetch the commit bound to its epoch and check it against
// the ref.
const CommitRefPrefix = "parley-commit-ref:"
