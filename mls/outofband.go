package mls

// Distributing the ratchet tree out of band (RFC 9420 §12.4.3.3 allows the
// tree to be "provided to the new member by some other means").
//
// A joiner that is handed the tree by an untrusted party (a delivery
// service) cannot be fooled by it: the tree hash of the tree it is given
// must equal the tree_hash in the GroupContext of the signed GroupInfo
// (validateJoinedTree), and every leaf and parent hash is verified, so a
// forged or altered tree is refused.

// SetOmitRatchetTree changes Config.OmitRatchetTree for the commits and
// GroupInfos made from now on (a group can switch to an out-of-band tree
// when it grows). It is saved with the group's state.
func (g *Group) SetOmitRatchetTree(omit bool) { g.cfg.OmitRatchetTree = omit }

// OmitsRatchetTree reports whether commits and GroupInfos of this group
// leave the ratchet tree out.
func (g *Group) OmitsRatchetTree() bool { return g.cfg.OmitRatchetTree }

// RatchetTree returns the encoded ratchet tree of the epoch the commit
// leads to (the ratchet_tree extension value): what joiners of that epoch
// need when the Welcome and GroupInfo leave the tree out.
func (p *PendingCommit) RatchetTree() []byte { return p.next.tree.marshal() }
