package mls

import (
	"bytes"
	"testing"

	"github.com/parleyhq/parley/mls/codec"
)

type messagesVector struct {
	MLSWelcome                     hexBytes `json:"mls_welcome"`
	MLSGroupInfo                   hexBytes `json:"mls_group_info"`
	MLSKeyPackage                  hexBytes `json:"mls_key_package"`
	RatchetTree                    hexBytes `json:"ratchet_tree"`
	GroupSecrets                   hexBytes `json:"group_secrets"`
	AddProposal                    hexBytes `json:"add_proposal"`
	UpdateProposal                 hexBytes `json:"update_proposal"`
	RemoveProposal                 hexBytes `json:"remove_proposal"`
	PreSharedKeyProposal           hexBytes `json:"pre_shared_key_proposal"`
	ReInitProposal                 hexBytes `json:"re_init_proposal"`
	ExternalInitProposal           hexBytes `json:"external_init_proposal"`
	GroupContextExtensionsProposal hexBytes `json:"group_context_extensions_proposal"`
	Commit                         hexBytes `json:"commit"`
	PublicMessageApplication       hexBytes `json:"public_message_application"`
	PublicMessageProposal          hexBytes `json:"public_message_proposal"`
	PublicMessageCommit            hexBytes `json:"public_message_commit"`
	PrivateMessage                 hexBytes `json:"private_message"`
}

// testRatchetTree decodes the ratchet_tree extension payload
// (optional<Node> ratchet_tree<V>) for round-trip tests only; the real type
// belongs to the tree code.
type testRatchetTree struct {
	nodes []testNode
}

type testNode struct {
	present bool
	leaf    *LeafNode
	parent  *ParentNode
}

func (t *testRatchetTree) Encode(w *codec.Writer) {
	w.Vector(func(w *codec.Writer) {
		for _, n := range t.nodes {
			w.Optional(n.present)
			if !n.present {
				continue
			}
			if n.leaf != nil {
				w.U8(1)
				n.leaf.Encode(w)
			} else {
				w.U8(2)
				n.parent.Encode(w)
			}
		}
	})
}

func (t *testRatchetTree) Decode(r *codec.Reader) {
	r.VectorEach(func(r *codec.Reader) {
		var n testNode
		n.present = r.Optional()
		if n.present {
			switch r.U8() {
			case 1:
				n.leaf = &LeafNode{}
				n.leaf.Decode(r)
			case 2:
				n.parent = &ParentNode{}
				n.parent.Decode(r)
			default:
				r.Failf("bad node type")
			}
		}
		t.nodes = append(t.nodes, n)
	})
}

type roundTripper interface {
	Encoder
	Decoder
}

func checkRoundTrip(t *testing.T, i int, name string, data []byte, v roundTripper) bool {
	t.Helper()
	if err := Unmarshal(data, v); err != nil {
		t.Errorf("vector %d %s: decode: %v", i, name, err)
		return false
	}
	out, err := Marshal(v)
	if err != nil {
		t.Errorf("vector %d %s: encode: %v", i, name, err)
		return false
	}
	if !bytes.Equal(out, data) {
		t.Errorf("vector %d %s: re-encoding differs:\n got %x\nwant %x", i, name, out, data)
		return false
	}
	return true
}

func TestMessagesVectors(t *testing.T) {
	const file = "messages.json"
	var vs []messagesVector
	loadVectors(t, file, &vs)
	ran := 0
	for i, v := range vs {
		ran++
		for _, c := range []struct {
			name string
			data []byte
			v    roundTripper
		}{
			{"mls_welcome", v.MLSWelcome, &MLSMessage{}},
			{"mls_group_info", v.MLSGroupInfo, &MLSMessage{}},
			{"mls_key_package", v.MLSKeyPackage, &MLSMessage{}},
			{"ratchet_tree", v.RatchetTree, &testRatchetTree{}},
			{"group_secrets", v.GroupSecrets, &GroupSecrets{}},
			{"add_proposal", v.AddProposal, &AddProposal{}},
			{"update_proposal", v.UpdateProposal, &UpdateProposal{}},
			{"remove_proposal", v.RemoveProposal, &RemoveProposal{}},
			{"pre_shared_key_proposal", v.PreSharedKeyProposal, &PreSharedKeyProposal{}},
			{"re_init_proposal", v.ReInitProposal, &ReInitProposal{}},
			{"external_init_proposal", v.ExternalInitProposal, &ExternalInitProposal{}},
			{"group_context_extensions_proposal", v.GroupContextExtensionsProposal, &GroupContextExtensionsProposal{}},
			{"commit", v.Commit, &Commit{}},
			{"public_message_application", v.PublicMessageApplication, &MLSMessage{}},
			{"public_message_proposal", v.PublicMessageProposal, &MLSMessage{}},
			{"public_message_commit", v.PublicMessageCommit, &MLSMessage{}},
			{"private_message", v.PrivateMessage, &MLSMessage{}},
		} {
			checkRoundTrip(t, i, c.name, c.data, c.v)
		}
		// Signatures that can be checked without group state: the
		// KeyPackage's own signatures, and the GroupInfo's against the
		// signer's leaf in the vector's ratchet tree. (PublicMessage
		// signatures cover a GroupContext the vectors do not provide.)
		var km, gm MLSMessage
		var rt testRatchetTree
		if km.Unmarshal(v.MLSKeyPackage) == nil && km.KeyPackage.CipherSuite.Supported() {
			if err := km.KeyPackage.Verify(); err != nil {
				t.Errorf("vector %d: key package: %v", i, err)
			}
		}
		if gm.Unmarshal(v.MLSGroupInfo) == nil && Unmarshal(v.RatchetTree, &rt) == nil &&
			gm.GroupInfo.GroupContext.CipherSuite.Supported() {
			idx := 2 * int(gm.GroupInfo.Signer)
			if idx >= len(rt.nodes) || rt.nodes[idx].leaf == nil {
				t.Errorf("vector %d: group info signer %d not in tree", i, gm.GroupInfo.Signer)
			} else if err := gm.GroupInfo.VerifySignature(rt.nodes[idx].leaf.SignatureKey); err != nil {
				t.Errorf("vector %d: group info: %v", i, err)
			}
		}
		// The wire format of each MLSMessage field must match its name.
		for _, c := range []struct {
			name string
			data []byte
			wf   WireFormat
		}{
			{"mls_welcome", v.MLSWelcome, WireFormatWelcome},
			{"mls_group_info", v.MLSGroupInfo, WireFormatGroupInfo},
			{"mls_key_package", v.MLSKeyPackage, WireFormatKeyPackage},
			{"public_message_application", v.PublicMessageApplication, WireFormatPublicMessage},
			{"private_message", v.PrivateMessage, WireFormatPrivateMessage},
		} {
			var m MLSMessage
			if err := m.Unmarshal(c.data); err != nil || m.WireFormat != c.wf {
				t.Errorf("vector %d %s: wire format %d, err %v; want %d", i, c.name, m.WireFormat, err, c.wf)
			}
		}
	}
	reportVectors(file, ran, 0)
}

type deserializationVector struct {
	VLBytesHeader hexBytes `json:"vlbytes_header"`
	Length        int      `json:"length"`
}

func TestDeserializationVectors(t *testing.T) {
	const file = "deserialization.json"
	var vs []deserializationVector
	loadVectors(t, file, &vs)
	for i, v := range vs {
		r := codec.NewReader(v.VLBytesHeader)
		n := r.Varint()
		if err := r.Finish(); err != nil || n != v.Length {
			t.Errorf("vector %d: varint %x decoded to %d, %v; want %d", i, []byte(v.VLBytesHeader), n, err, v.Length)
		}
		if got := codec.AppendVarint(nil, v.Length); !bytes.Equal(got, v.VLBytesHeader) {
			t.Errorf("vector %d: AppendVarint(%d) = %x; want %x", i, v.Length, got, []byte(v.VLBytesHeader))
		}
	}
	reportVectors(file, len(vs), 0)
}
