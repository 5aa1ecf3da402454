package localstore

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/content"
)

// kvWithMessages returns a MemKV holding one chat of n messages.
func kvWithMessages(b *testing.B, n int) *MemKV {
	ctx := context.Background()
	kv := NewMemKV()
	s, err := OpenKV(ctx, kv)
	if err != nil {
		b.Fatal(err)
	}
	if err := s.Apply(ctx, Applied{Conversation: convA, Group: make([]byte, 2048), Chat: &Chat{Kind: parley.KindDirect, Title: "T"}}); err != nil {
		b.Fatal(err)
	}
	at := time.Now()
	for i := 1; i <= n; i++ {
		m := msg(convA, parley.Seq(i), fmt.Sprintf("c%d", i), i%2 == 0, fmt.Sprintf("message number %d with some text in it", i), content.StatusRead, at)
		if err := s.Apply(ctx, Applied{Conversation: convA, Seq: parley.Seq(i), Message: m}); err != nil {
			b.Fatal(err)
		}
	}
	return kv
}

// BenchmarkKVStoreApply: one incoming message (group state, cursor and
// message committed together), in a chat of 10,000.
func BenchmarkKVStoreApply(b *testing.B) {
	ctx := context.Background()
	s, err := OpenKV(ctx, kvWithMessages(b, 10000))
	if err != nil {
		b.Fatal(err)
	}
	group := make([]byte, 2048)
	at := time.Now()
	b.ResetTimer()
	for i := range b.N {
		seq := parley.Seq(10001 + i)
		m := msg(convA, seq, fmt.Sprintf("n%d", i), false, "hello there", content.StatusReceived, at)
		if err := s.Apply(ctx, Applied{Conversation: convA, Seq: seq, Group: group, Epoch: 1, Message: m}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkKVStoreOpen10k: loading a profile with a 10,000-message chat
// (what the browser does on every page load, after reading IndexedDB).
func BenchmarkKVStoreOpen10k(b *testing.B) {
	kv := kvWithMessages(b, 10000)
	b.ResetTimer()
	for range b.N {
		if _, err := OpenKV(context.Background(), kv); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkKVStoreHistory10k: the last 50 messages and the chat list of a
// 10,000-message chat.
func BenchmarkKVStoreHistory10k(b *testing.B) {
	ctx := context.Background()
	s, err := OpenKV(ctx, kvWithMessages(b, 10000))
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		if ms, err := s.Messages(ctx, convA, 50); err != nil || len(ms) != 50 {
			b.Fatal(err)
		}
		if _, err := s.Chats(ctx); err != nil {
			b.Fatal(err)
		}
	}
}
