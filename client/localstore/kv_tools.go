package localstore

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/content"
)

// The KV store's keys of the chat tools (beside those listed in kv.go):
//
//	s/<conv>/<seq>                    a starred message: when (ms)
//	q/<conv>/<user>/<kind>/<seq>      a member's receipt position: when first seen (ms)
//	n/<conv>                          a chat's marks (kvMarks)

// kvTools is what the chat tools keep about one conversation.
type kvTools struct {
	stars    map[parley.Seq]int64
	receipts map[kvReceipt]int64
	marks    ChatMarks
}

type kvReceipt struct {
	user parley.UserID
	kind parley.ReceiptKind
	seq  parley.Seq
}

// kvMarks is ChatMarks as stored.
type kvMarks struct {
	MutedUntil int64 `json:"muted_until,omitempty"` // ms
	Unread     bool  `json:"unread,omitempty"`
}

// load reads one key of the tools: kind is its first part, tail what
// follows the conversation.
func (t *kvTools) load(kind, tail string, v []byte) error {
	var at int64
	if kind != "n" {
		if err := json.Unmarshal(v, &at); err != nil {
			return err
		}
	}
	switch kind {
	case "s":
		seq, err := strconv.ParseInt(tail, 10, 64)
		if err != nil {
			return err
		}
		if t.stars == nil {
			t.stars = map[parley.Seq]int64{}
		}
		t.stars[parley.Seq(seq)] = at
	case "q":
		parts := strings.Split(tail, "/")
		if len(parts) != 3 {
			return nil // unknown: ignored
		}
		var n [3]int64
		for i, p := range parts {
			var err error
			if n[i], err = strconv.ParseInt(p, 10, 64); err != nil {
				return err
			}
		}
		if t.receipts == nil {
			t.receipts = map[kvReceipt]int64{}
		}
		t.receipts[kvReceipt{parley.UserID(n[0]), parley.ReceiptKind(n[1]), parley.Seq(n[2])}] = at
	case "n":
		var m kvMarks
		if err := json.Unmarshal(v, &m); err != nil {
			return err
		}
		t.marks = ChatMarks{Unread: m.Unread}
		if m.MutedUntil != 0 {
			t.marks.MutedUntil = time.UnixMilli(m.MutedUntil)
		}
	}
	return nil
}

func (s *kvStore) Star(ctx context.Context, conv parley.ConversationID, seq parley.Seq, on bool, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	cv := s.convs[conv]
	if err := cv.has(conv, seq); err != nil {
		return err
	}
	tx := newKVTx()
	key := kvSeqKey("s", conv, seq)
	if on {
		if cv.tools.stars == nil {
			cv.tools.stars = map[parley.Seq]int64{}
		}
		cv.tools.stars[seq] = at.UnixMilli()
		tx.put(key, at.UnixMilli())
	} else {
		delete(cv.tools.stars, seq)
		tx.del(key)
	}
	return s.commit(ctx, tx)
}

// has returns CodeNotFound "no_message" unless cv (of conv) has a message
// with seq.
func (cv *kvConv) has(conv parley.ConversationID, seq parley.Seq) error {
	if cv != nil && seq > 0 {
		m, err := cv.atSeq(seq)
		if err != nil || m != nil {
			return err
		}
	}
	return parley.Errorf(parley.CodeNotFound, ReasonNoMessage, "no message %s:%d on this device", conv, seq)
}

func (s *kvStore) Starred(ctx context.Context, conv parley.ConversationID) ([]content.MessageRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []content.MessageRecord
	at := map[string]int64{}
	for id, cv := range s.convs {
		if conv != "" && id != conv {
			continue
		}
		for seq, t := range cv.tools.stars {
			m, err := cv.atSeq(seq)
			if err != nil {
				return nil, err
			}
			if m != nil {
				out = append(out, copyMsg(m))
				at[content.FormatMessageID(id, seq)] = t
			}
		}
	}
	sortStarred(out, func(m *content.MessageRecord) int64 { return at[content.FormatMessageID(m.Conversation, m.Seq)] })
	return out, nil
}

func (s *kvStore) DeleteForMe(ctx context.Context, conv parley.ConversationID, seq parley.Seq) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	cv := s.convs[conv]
	if err := cv.has(conv, seq); err != nil {
		return err
	}
	m := cv.bySeq[seq]
	key := kvMsgKey(conv, m.SenderDevice, m.ClientID)
	tx := newKVTx()
	delete(cv.msgs, key)
	delete(cv.bySeq, seq)
	tx.del(key)
	if _, ok := cv.exts[key]; ok {
		delete(cv.exts, key)
		tx.del("x/" + key[2:])
	}
	for _, p := range []string{"r", "v", "e", "s"} {
		tx.del(kvSeqKey(p, conv, seq))
	}
	delete(cv.reacts, seq)
	delete(cv.votes, seq)
	delete(cv.changes, seq)
	delete(cv.tools.stars, seq)
	cv.dirty = true
	cv.seqsOK, cv.search = false, nil
	return s.commit(ctx, tx)
}

func (s *kvStore) NoteReceipt(ctx context.Context, conv parley.ConversationID, user parley.UserID, kind parley.ReceiptKind, seq parley.Seq, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	cv := s.conv(conv)
	k := kvReceipt{user, kind, seq}
	t := at.UnixMilli()
	if old, ok := cv.tools.receipts[k]; ok && old <= t {
		return nil
	}
	if cv.tools.receipts == nil {
		cv.tools.receipts = map[kvReceipt]int64{}
	}
	cv.tools.receipts[k] = t
	tx := newKVTx()
	tx.put("q/"+string(conv)+"/"+strconv.FormatInt(int64(user), 10)+"/"+strconv.Itoa(int(kind))+"/"+strconv.FormatInt(int64(seq), 10), t)
	return s.commit(ctx, tx)
}

func (s *kvStore) Receipts(ctx context.Context, conv parley.ConversationID, seq parley.Seq) ([]MemberReceipt, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	by := map[parley.UserID]*MemberReceipt{}
	if cv := s.convs[conv]; cv != nil {
		for k, at := range cv.tools.receipts {
			if k.seq >= seq {
				setReceipt(by, k.user, k.kind, at)
			}
		}
	}
	return receiptList(by), nil
}

func (s *kvStore) SetChatMarks(ctx context.Context, conv parley.ConversationID, m ChatMarks) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	cv := s.conv(conv)
	cv.tools.marks = m
	tx := newKVTx()
	if m.IsZero() {
		tx.del("n/" + string(conv))
	} else {
		tx.put("n/"+string(conv), kvMarks{MutedUntil: unixMs(m.MutedUntil), Unread: m.Unread})
	}
	return s.commit(ctx, tx)
}

func (s *kvStore) ChatMarks(ctx context.Context) (map[parley.ConversationID]ChatMarks, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[parley.ConversationID]ChatMarks{}
	for id, cv := range s.convs {
		if !cv.tools.marks.IsZero() {
			out[id] = cv.tools.marks
		}
	}
	return out, nil
}
