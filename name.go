package parley

import (
	"fmt"
	"unicode"
	"unicode/utf8"
)

// ReasonNameUnsafe is the Reason of the CodeInvalid error CheckName returns
// for a name holding a character that could disguise it.
const ReasonNameUnsafe = "name_unsafe"

// CheckName is the one check every name other people see goes through
// before it is stored: display names, device names, group and community
// names, business profile names. A name passes when it is valid UTF-8 and
// holds none of these characters, which can make one name pass for another
// or reorder the text around it:
//
//   - control characters (Unicode category Cc: C0, DEL, C1);
//   - format characters (Cf), among them the bidi embeddings and overrides
//     U+202A–U+202E, the isolates U+2066–U+2069, the marks U+200E, U+200F
//     and U+061C, the zero-width characters U+200B–U+200D, U+2060 and
//     U+FEFF, the soft hyphen U+00AD, and the tag characters U+E0000–E007F;
//   - the line and paragraph separators U+2028 and U+2029, private-use
//     characters, and letters that render blank (U+115F, U+1160, U+3164,
//     U+FFA0, U+2800).
//
// The one exception is U+200D ZERO WIDTH JOINER between two symbols, as in
// the emoji sequence 👩‍💻, which displays as one picture and cannot hide
// text. Length and emptiness are the caller's rules, not this function's.
//
// The error is CodeInvalid ReasonNameUnsafe, and its message names the
// first refused character.
func CheckName(name string) error {
	if !utf8.ValidString(name) {
		return Errorf(CodeInvalid, ReasonNameUnsafe, "a name must be valid UTF-8 text")
	}
	prev := rune(-1) // the previous rune that is not an emoji modifier
	for i, r := range name {
		if r == zwj && isEmojiSymbol(prev) {
			next, size := utf8.DecodeRuneInString(name[i+utf8.RuneLen(r):])
			if size > 0 && isEmojiSymbol(next) {
				continue
			}
		}
		if unsafeInName(r) {
			return Errorf(CodeInvalid, ReasonNameUnsafe, "a name cannot contain %s (an invisible, control or text-direction character)", codePoint(r))
		}
		if !isEmojiModifier(r) {
			prev = r
		}
	}
	return nil
}

const zwj = '\u200d'

// unsafeInName reports whether r is refused in a name (ZWJ aside).
func unsafeInName(r rune) bool {
	switch {
	case unicode.Is(unicode.Cc, r), unicode.Is(unicode.Cf, r), unicode.Is(unicode.Co, r):
		return true
	case r == '\u2028', r == '\u2029':
		return true
	case r == '\u115f', r == '\u1160', r == '\u3164', r == '\uffa0', r == '\u2800':
		return true
	case r >= 0xe0000 && r <= 0xe007f: // tags (Cf, listed for the unassigned ones)
		return true
	}
	return false
}

// isEmojiSymbol reports whether r is a symbol an emoji ZWJ sequence joins.
func isEmojiSymbol(r rune) bool {
	return r >= 0 && r != utf8.RuneError && unicode.Is(unicode.So, r)
}

// isEmojiModifier reports whether r modifies the emoji before it (variation
// selector 16, skin tones), so that a joiner after it still follows a symbol.
func isEmojiModifier(r rune) bool {
	return r == '\ufe0f' || r >= 0x1f3fb && r <= 0x1f3ff
}

func codePoint(r rune) string { return fmt.Sprintf("U+%04X", r) }
