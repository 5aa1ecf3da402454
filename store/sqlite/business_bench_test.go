package sqlite_test

import (
	"fmt"
	"testing"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/store/sqlite"
)

// BenchmarkBusinessCatalog reads a full catalog of 1,000 products (the
// limit) and one profile, what a customer opening a shop costs the store.
func BenchmarkBusinessCatalog(b *testing.B) {
	s, err := sqlite.Open(b.Context(), b.TempDir()+"/parley.db")
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := b.Context()
	if err := s.PutBusinessProfile(ctx, parley.BusinessProfile{User: 1, Name: "Shop"}); err != nil {
		b.Fatal(err)
	}
	for i := range parley.MaxProducts {
		p := parley.Product{Business: 1, ID: parley.ProductID(fmt.Sprintf("p%04d", i)), Name: "Product", Available: true,
			Price: parley.Money{Amount1000: 1000, Currency: "EUR"}, Collections: []parley.CollectionID{"all"}}
		if err := s.PutProduct(ctx, p); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := s.BusinessProfile(ctx, 1); err != nil {
			b.Fatal(err)
		}
		ps, err := s.Products(ctx, 1, "")
		if err != nil || len(ps) != parley.MaxProducts {
			b.Fatal(len(ps), err)
		}
	}
}

// BenchmarkBusinessLabelChat labels chats, what a busy shop's devices do
// with every order.
func BenchmarkBusinessLabelChat(b *testing.B) {
	s, err := sqlite.Open(b.Context(), b.TempDir()+"/parley.db")
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := b.Context()
	i := 0
	for b.Loop() {
		i++
		if err := s.LabelChat(ctx, parley.ChatLabel{Business: 1, Conversation: parley.ConversationID(fmt.Sprintf("c%010d", i)), Label: parley.LabelPaid}); err != nil {
			b.Fatal(err)
		}
	}
}
