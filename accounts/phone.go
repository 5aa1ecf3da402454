package accounts

import (
	"strings"

	"github.com/nyaruka/phonenumbers"

	"github.com/parleyhq/parley"
)

// NormalizePhone returns s in E.164 form ("+" and digits). s must name its
// country, with a leading "+" or the international prefix "00"; spaces,
// dashes, dots and parentheses are ignored (any other character, such as
// letters or an extension, is refused): "+44 20 7946 0958",
// "+1 (415) 555-0100" and "0044 20 7946 0958" are all accepted. Anything
// that is not a valid number under the libphonenumber metadata returns
// CodeInvalid with reason "phone_invalid".
func NormalizePhone(s string) (string, error) {
	s = strings.TrimSpace(s)
	if len(s) > 64 {
		return "", errPhone("the phone number is too long")
	}
	switch {
	case strings.HasPrefix(s, "+"):
	case strings.HasPrefix(s, "00"):
		s = "+" + s[2:]
	default:
		return "", errPhone("start the phone number with + and the country code")
	}
	if strings.Trim(s[1:], "0123456789 -.()") != "" {
		return "", errPhone("a phone number has only digits, spaces, dashes, dots and parentheses")
	}
	n, err := phonenumbers.Parse(s, "ZZ")
	if err != nil || !phonenumbers.IsValidNumber(n) || n.GetExtension() != "" {
		return "", errPhone("not a valid phone number")
	}
	return phonenumbers.Format(n, phonenumbers.E164), nil
}

func errPhone(msg string) error {
	return parley.Errorf(parley.CodeInvalid, ReasonPhoneInvalid, "%s", msg)
}
