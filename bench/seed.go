package bench

import (
	"context"
	"crypto/sha256"
	"fmt"
	"time"

	"github.com/parleyhq/parley"
)

// benchUser is a seeded account with one device whose credentials the bench knows.
type benchUser struct {
	User   parley.UserID
	Device parley.DeviceID
	Secret []byte
}

// benchSecret derives the device secret of bench user n, so a server seeded
// earlier can be driven again.
func benchSecret(n int) []byte {
	s := sha256.Sum256(fmt.Appendf(nil, "parley-bench-secret:%d", n))
	return s[:]
}

// seedUsers creates users 1..n, each with one primary device.
func seedUsers(ctx context.Context, st parley.Store, n int) ([]benchUser, error) {
	now := time.Now()
	users := make([]benchUser, 0, n)
	for i := 1; i <= n; i++ {
		u, err := st.CreateUser(ctx, parley.User{
			Phone:     fmt.Sprintf("+1999%07d", i),
			Name:      fmt.Sprintf("bench user %d", i),
			CreatedAt: now,
		})
		if err != nil {
			return nil, fmt.Errorf("seed user %d: %w", i, err)
		}
		secret := benchSecret(i)
		h := sha256.Sum256(secret)
		ik := sha256.Sum256(append([]byte("identity"), secret...))
		d, err := st.CreateDevice(ctx, parley.Device{
			User: u.ID, Name: "bench", Primary: true,
			SecretHash: h[:], IdentityKey: ik[:], CreatedAt: now,
		})
		if err != nil {
			return nil, fmt.Errorf("seed device %d: %w", i, err)
		}
		users = append(users, benchUser{User: u.ID, Device: d.ID, Secret: secret})
	}
	return users, nil
}

// seedPairs creates a direct conversation between users 2i and 2i+1 and
// returns the conversation IDs.
func seedPairs(ctx context.Context, st parley.Store, users []benchUser) ([]parley.ConversationID, error) {
	var convs []parley.ConversationID
	for i := 0; i+1 < len(users); i += 2 {
		a, b := users[i], users[i+1]
		id := parley.ConversationID(fmt.Sprintf("cbenchpair%07d", i/2))
		c := parley.Conversation{ID: id, Kind: parley.KindDirect, Epoch: 1, CreatedBy: a.User, CreatedAt: time.Now()}
		members := []parley.Member{
			{Conversation: id, User: a.User, Device: a.Device},
			{Conversation: id, User: b.User, Device: b.Device},
		}
		if _, err := st.CreateConversation(ctx, c, members, nil); err != nil {
			return nil, fmt.Errorf("seed conversation %s: %w", id, err)
		}
		convs = append(convs, id)
	}
	return convs, nil
}
