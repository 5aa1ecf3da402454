package client

import "github.com/parleyhq/parley/client/mlsengine"

// The MLS layer lives in package mlsengine; the client's protocol flows
// use it under these names.
type (
	identity      = mlsengine.Identity
	member        = mlsengine.Member
	validator     = mlsengine.Validator
	pendingCommit = mlsengine.PendingCommit
	engine        = mlsengine.Engine
	group         = mlsengine.Group
	commitEffect  = mlsengine.CommitEffect
)

// CipherSuite is the MLS cipher suite of devices whose Config.CipherSuite
// is zero (mlsengine.CipherSuite).
const CipherSuite = mlsengine.CipherSuite

var (
	errTreeNeeded   = mlsengine.ErrTreeNeeded
	errNotForMe     = mlsengine.ErrNotForMe
	credentialFor   = mlsengine.CredentialFor
	parseCredential = mlsengine.ParseCredential
	newEngine       = mlsengine.New
)
