package mls

import (
	"bytes"
	"fmt"
	"time"
)

// This file holds the validation rules of RFC 9420 §7.3 (leaf nodes), §10.1
// (key packages), §12.4.3.1 (trees of joined groups) and the helpers for
// required_capabilities and GroupContext extensions support.

// requiredCaps decodes the required_capabilities extension of exts, if any.
func requiredCaps(exts []Extension) (*RequiredCapabilities, error) {
	e, ok := FindExtension(exts, ExtensionTypeRequiredCapabilities)
	if !ok {
		return nil, nil
	}
	var rc RequiredCapabilities
	if err := Unmarshal(e.ExtensionData, &rc); err != nil {
		return nil, fmt.Errorf("required_capabilities: %w", err)
	}
	return &rc, nil
}

// leafSupportsGroup checks that ln's capabilities cover the group's
// required_capabilities and every non-default GroupContext extension
// (§7.3, §11.1, §13.4).
func leafSupportsGroup(ln *LeafNode, exts []Extension) error {
	rc, err := requiredCaps(exts)
	if err != nil {
		return err
	}
	caps := &ln.Capabilities
	if rc != nil {
		for _, t := range rc.ExtensionTypes {
			if !isDefaultExtension(t) && !containsT(caps.Extensions, t) {
				return fmt.Errorf("required extension type %d not supported", t)
			}
		}
		for _, t := range rc.ProposalTypes {
			if !isDefaultProposal(t) && !containsT(caps.Proposals, t) {
				return fmt.Errorf("required proposal type %d not supported", t)
			}
		}
		for _, t := range rc.CredentialTypes {
			if !containsT(caps.Credentials, t) {
				return fmt.Errorf("required credential type %d not supported", t)
			}
		}
	}
	for _, e := range exts {
		if !isDefaultExtension(e.ExtensionType) && !containsT(caps.Extensions, e.ExtensionType) {
			return fmt.Errorf("group context extension type %d not supported", e.ExtensionType)
		}
	}
	return nil
}

// validateLeafNode applies RFC 9420 §7.3 to ln, which must already be stored
// at leaf l of tree t (so that key uniqueness and credential compatibility
// are judged against the tree it will live in). groupID is the signing
// context for update and commit leaves; exts are the GroupContext
// extensions the leaf must support. The lifetime of key_package leaves is
// checked only if checkLifetime is set.
func (g *Group) validateLeafNode(t *ratchetTree, ln *LeafNode, l LeafIndex, groupID []byte, exts []Extension, source LeafNodeSource, checkLifetime bool) error {
	if err := ln.VerifySignature(t.suite, groupID, uint32(l)); err != nil {
		return fmt.Errorf("%w: leaf %d: %v", ErrInvalidLeafNode, l, err)
	}
	return g.validateLeafNodeSigned(t, ln, l, exts, source, checkLifetime)
}

// validateLeafNodeSigned is validateLeafNode for a leaf whose signature has
// already been verified.
func (g *Group) validateLeafNodeSigned(t *ratchetTree, ln *LeafNode, l LeafIndex, exts []Extension, source LeafNodeSource, checkLifetime bool) error {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("%w: leaf %d: %s", ErrInvalidLeafNode, l, fmt.Sprintf(format, args...))
	}
	if source != 0 && ln.LeafNodeSource != source {
		return fail("leaf_node_source %d, want %d", ln.LeafNodeSource, source)
	}
	if g.cfg.CredentialValidator != nil {
		if err := g.cfg.CredentialValidator.Validate(ln.Credential, ln.SignatureKey); err != nil {
			return fmt.Errorf("%w: leaf %d: %w", ErrInvalidCredential, l, err)
		}
	}
	if err := t.suite.ValidateHPKEPublicKey(ln.EncryptionKey); err != nil {
		return fail("encryption key: %v", err)
	}
	if err := leafSupportsGroup(ln, exts); err != nil {
		return fail("%v", err)
	}
	if !containsT(ln.Capabilities.Credentials, ln.Credential.CredentialType) {
		return fail("credential type %d not listed in its own capabilities", ln.Credential.CredentialType)
	}
	if !t.credentialCompatible(ln) {
		return fail("credential types incompatible with the group's members")
	}
	for _, e := range ln.Extensions {
		if !isDefaultExtension(e.ExtensionType) && !containsT(ln.Capabilities.Extensions, e.ExtensionType) {
			return fail("extension type %d not listed in capabilities", e.ExtensionType)
		}
	}
	if HasDuplicateExtensions(ln.Extensions) {
		return fail("duplicate extensions")
	}
	if ln.LeafNodeSource == LeafNodeSourceKeyPackage && checkLifetime {
		if err := g.checkLifetime(&ln.Lifetime); err != nil {
			return fail("%v", err)
		}
	}
	if !t.encKeyUnique(ln.EncryptionKey, l.toNode()) {
		return fmt.Errorf("%w: leaf %d: encryption key not unique", ErrDuplicateKey, l)
	}
	if !t.sigKeyUnique(ln.SignatureKey, l) {
		return fmt.Errorf("%w: leaf %d: signature key not unique", ErrDuplicateKey, l)
	}
	return nil
}

// checkLifetime checks that now lies within lt and that lt is no longer than
// the configured maximum.
func (g *Group) checkLifetime(lt *Lifetime) error {
	now := uint64(g.cfg.now().Unix())
	if now < lt.NotBefore || now > lt.NotAfter {
		return fmt.Errorf("lifetime [%d, %d] does not contain now (%d)", lt.NotBefore, lt.NotAfter, now)
	}
	if max := g.cfg.MaxLifetime; max > 0 && lt.NotAfter-lt.NotBefore > uint64(max/time.Second)+7200 {
		return fmt.Errorf("lifetime of %ds exceeds the maximum %v", lt.NotAfter-lt.NotBefore, max)
	}
	return nil
}

// validateKeyPackage applies RFC 9420 §10.1 to kp for this group (the
// LeafNode checks that need the tree are done after the Add is applied).
func (g *Group) validateKeyPackage(kp *KeyPackage) error {
	if kp.Version != g.ctx.Version {
		return fmt.Errorf("%w: key package version %d", ErrInvalidProposal, kp.Version)
	}
	if kp.CipherSuite != g.cs {
		return fmt.Errorf("%w: key package cipher suite %d, group uses %d", ErrInvalidProposal, kp.CipherSuite, g.cs)
	}
	verify := kp.Verify
	if g.deferAddSigs {
		verify = kp.checkUnsigned // the leaf's signature is checked at first use
	}
	if err := verify(); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidProposal, err)
	}
	if err := g.cs.ValidateHPKEPublicKey(kp.InitKey); err != nil {
		return fmt.Errorf("%w: key package init key: %w", ErrInvalidProposal, err)
	}
	if HasDuplicateExtensions(kp.Extensions) {
		return fmt.Errorf("%w: key package has duplicate extensions", ErrInvalidProposal)
	}
	return nil
}

// validateJoinedTree performs the ratchet tree checks a joiner must do
// (§12.4.3.1): structure, tree hash against ctx, parent hashes, and every
// leaf per §7.3 (lifetimes excepted: they may legitimately have expired).
// With deferSigs the leaf signatures, except signer's, are recorded for
// checking at first use (deferred.go) instead.
func (g *Group) validateJoinedTree(t *ratchetTree, ctx *GroupContext, deferSigs bool, signer LeafIndex) error {
	if err := t.verifyStructure(); err != nil {
		return err
	}
	if !bytes.Equal(t.treeHash(), ctx.TreeHash) {
		return fmt.Errorf("%w: tree hash does not match the GroupContext", ErrInvalidTree)
	}
	if err := t.verifyParentHashes(); err != nil {
		return err
	}
	if deferSigs {
		for l := LeafIndex(0); uint32(l) < t.numLeaves(); l++ {
			t.deferLeaf(l)
		}
		if err := t.checkDeferredLeaf(signer, ctx.GroupID); err != nil {
			return fmt.Errorf("%w: %w", ErrInvalidTree, err)
		}
	}
	// Leaf signatures dominate the cost for large groups: check them in
	// parallel, then the rest sequentially.
	if err := parallelFor(int(t.numLeaves()), func(i int) error {
		if ln := t.leaf(LeafIndex(i)); ln != nil && !deferSigs {
			if err := ln.VerifySignature(t.suite, ctx.GroupID, uint32(i)); err != nil {
				return fmt.Errorf("%w: %w: leaf %d: %v", ErrInvalidTree, ErrInvalidLeafNode, i, err)
			}
		}
		return nil
	}); err != nil {
		return err
	}
	for l := LeafIndex(0); uint32(l) < t.numLeaves(); l++ {
		ln := t.leaf(l)
		if ln == nil {
			continue
		}
		if err := g.validateLeafNodeSigned(t, ln, l, ctx.Extensions, 0, false); err != nil {
			return fmt.Errorf("%w: %w", ErrInvalidTree, err)
		}
	}
	return nil
}

// allMembersSupport checks every member of t against exts (used when a
// GroupContextExtensions proposal changes the extensions, §12.1.7).
func allMembersSupport(t *ratchetTree, exts []Extension) error {
	for l := LeafIndex(0); uint32(l) < t.numLeaves(); l++ {
		if ln := t.leaf(l); ln != nil {
			if err := leafSupportsGroup(ln, exts); err != nil {
				return fmt.Errorf("member %d: %v", l, err)
			}
		}
	}
	return nil
}
