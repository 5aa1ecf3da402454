package business

import "github.com/parleyhq/parley/wire"

// The business frames' conversions live in package wire; these forward to
// them for the client, which imports business until it uses wire
// (deps_test.go, pendingArrows). The integrator removes them then.
var (
	MS               = wire.MS
	FromMS           = wire.FromMS
	QuickReplyToPB   = wire.QuickReplyToPB
	BizProfileToPB   = wire.BizProfileToPB
	BizProfileFromPB = wire.BizProfileFromPB
	BizProductToPB   = wire.BizProductToPB
	BizProductFromPB = wire.BizProductFromPB
	AutoReplyToPB    = wire.AutoReplyToPB
	AutoReplyFromPB  = wire.AutoReplyFromPB
)
