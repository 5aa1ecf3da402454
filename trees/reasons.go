package trees

// Reasons of the errors this package returns, beside their codes; every
// one is listed in docs/protocol.md (the root package's reasons test checks).
const (
	ReasonBody         = "body"           // CodeInvalid: the ratchet tree upload could not be read
	ReasonEmptyTree    = "empty_tree"     // CodeInvalid: the tree is empty
	ReasonTreePath     = "tree_path"      // CodeInvalid: want …/<conversation id>/<epoch>
	ReasonTreeTooLarge = "tree_too_large" // CodeTooLarge: a ratchet tree may have at most … bytes
)
