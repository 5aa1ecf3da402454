package bench

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/accounts"
	"github.com/parleyhq/parley/apiclient"
	"github.com/parleyhq/parley/client"
	"github.com/parleyhq/parley/mls"
	"github.com/parleyhq/parley/proto/parleypb"
	parleyserver "github.com/parleyhq/parley/server"
)

// runCommunity builds a real MLS community of cfg.Members users (default
// 5,000) on an in-process server (the store cfg.OpenStore opens) and posts
// one announcement:
//
//   - the admin is a real client (package client, its own SQLite profile):
//     it registers, resolves every member by phone, claims their
//     KeyPackages and runs CreateCommunity, which creates the group with an
//     inline tree and adds everyone else in frame-sized batched commits
//     with the ratchet tree out of band (uploaded to /mls/v1/trees);
//   - the members are lightweight: seeded accounts with a real MLS
//     signature key and KeyPackage each, driven by the bench's lean
//     protocol connection and package mls directly. After the announcement
//     is posted they come online, 2 x GOMAXPROCS at a time (their group
//     states do not all fit in memory at once): each joins from its
//     Welcome (fetching the tree from the server and verifying it against
//     the signed GroupInfo), processes the later batches' commits, decrypts
//     the announcement, acknowledges and goes.
//
// It reports creation time, tree and message sizes, the time until every
// member decrypted the announcement (which, members being offline during
// creation, includes every member's join: it measures join throughput of
// this machine), per-member catch-up times, and the size an external
// commit joining the finished community would have.
func runCommunity(ctx context.Context, cfg Config) (map[string]any, error) {
	raiseFileLimit()
	n := cfg.Members
	if n < 3 || n > 10000 {
		return nil, fmt.Errorf("a bench community has 3 to 10,000 members")
	}
	suite := cfg.Suite
	if suite == 0 {
		suite = client.CipherSuite
	}
	if !suite.Supported() {
		return nil, fmt.Errorf("cipher suite %v: %w", suite, mls.ErrUnsupportedCipherSuite)
	}
	dir, err := os.MkdirTemp("", "parley-bench-community-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	st, err := cfg.OpenStore(ctx, dir)
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	defer st.Close()
	ts, ok := st.(parley.TreeStore)
	if !ok {
		return nil, fmt.Errorf("the store does not keep ratchet trees")
	}

	// Members: seeded accounts with real MLS keys and one KeyPackage each.
	start := time.Now()
	// The admin, n-2 lightweight members, and at the end one real client
	// joining by invite link.
	members, err := seedMLSMembers(ctx, st, suite, n-2)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(cfg.Log, "seeded %d members with MLS keys in %v\n", n-2, time.Since(start).Round(time.Millisecond))
	kp, err := mls.MarshalKeyPackage(&members[0].bundle.KeyPackage)
	if err != nil {
		return nil, err
	}
	kpBytes := len(kp)

	codes := &codeCatcher{codes: map[string]string{}}
	// The admin adds thousands of people by number at once, which the
	// directory-lookup budget of a real account (120 an hour, a guard
	// against enumerating numbers) would stop: this bench measures MLS at
	// scale, not that guard.
	acfg := accounts.Config{Limits: accounts.Limits{LookupsPerUser: parley.Limit{Events: 1 << 30, Window: time.Hour}}}
	srv, err := parleyserver.New(parleyserver.Config{Store: st, Log: slog.New(codes), Accounts: acfg})
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(context.Background(), ln) }()
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
		<-served
	}()
	addr := ln.Addr().String()
	base := "http://" + addr

	// The admin: a real client.
	admin, err := client.Open(ctx, client.Config{Dir: filepath.Join(dir, "admin"), DeviceName: "bench admin", ClientName: "parley-bench", CipherSuite: suite})
	if err != nil {
		return nil, err
	}
	defer admin.Close()
	const adminPhone = "+14155550100"
	if _, err := admin.Register(ctx, base, adminPhone, "Bench admin"); err != nil {
		return nil, fmt.Errorf("register admin: %w", err)
	}
	code, err := codes.wait(ctx, adminPhone)
	if err != nil {
		return nil, err
	}
	if _, err := admin.Verify(ctx, code, ""); err != nil {
		return nil, fmt.Errorf("verify admin: %w", err)
	}
	acct := admin.Account()
	keys := map[string][]byte{fmt.Sprintf("%d:%d", acct.User, acct.Device): acct.SigPub}
	refs := make([]string, len(members))
	for i, m := range members {
		keys[m.credential] = m.signer.Public
		refs[i] = m.phone
	}
	// Members defer leaf signatures to first use as the client does for
	// large groups, unless StrictLeaves asks for RFC 9420's letter.
	mlsCfg := mls.Config{CredentialValidator: mls.CredentialValidatorFunc(func(c mls.Credential, sigKey []byte) error {
		if k, ok := keys[string(c.Identity)]; !ok || !slices.Equal(k, sigKey) {
			return fmt.Errorf("unknown credential %q", c.Identity)
		}
		return nil
	}), DeferLeafSignatures: !cfg.StrictLeaves}

	fmt.Fprintf(cfg.Log, "creating the community of %d\n", n-1)
	start = time.Now()
	createCPU0, _ := procCPU(os.Getpid())
	res, err := admin.CreateCommunity(ctx, "Bench community", refs, client.GroupOptions{})
	if err != nil {
		return nil, fmt.Errorf("create community: %w", err)
	}
	create := time.Since(start)
	createCPU1, _ := procCPU(os.Getpid())
	conv := res.Group.ID
	if len(res.Added) != len(members) {
		return nil, fmt.Errorf("the community has %d members added directly, want %d (invited: %d)", len(res.Added), len(members), len(res.Invited))
	}
	c, err := st.Conversation(ctx, conv)
	if err != nil {
		return nil, err
	}
	tree, err := ts.RatchetTreeAt(ctx, conv, c.Epoch)
	if err != nil && !parley.IsCode(err, parley.CodeNotFound) {
		return nil, fmt.Errorf("tree of the last epoch: %w", err)
	} // else small enough to keep the tree inline: Data stays nil
	fmt.Fprintf(cfg.Log, "created in %v: epoch %d, tree %d bytes\n", create.Round(time.Millisecond), c.Epoch, len(tree.Data))

	// What an external commit joining the finished community would weigh.
	extSigner, _ := mls.GenerateSigner(suite)
	extStart := time.Now()
	_, extCommit, extErr := mls.JoinExternal(c.GroupInfo, extSigner, mls.NewBasicCredential([]byte("0:0")), mls.Config{},
		mls.ExternalJoinOptions{RatchetTree: tree.Data})
	extTime := time.Since(extStart)
	if extErr != nil {
		return nil, fmt.Errorf("external join: %w", extErr)
	}

	const text = "bench announcement: the community is ready"
	start = time.Now()
	if _, err := admin.Announce(ctx, string(conv), text); err != nil {
		return nil, fmt.Errorf("announce: %w", err)
	}
	announced := time.Now()
	fmt.Fprintf(cfg.Log, "announced in %v; members catching up\n", announced.Sub(start).Round(time.Millisecond))

	// Members come online and catch up, a few at a time: all of them, or
	// cfg.Sample spread evenly over the batches.
	online := members
	if cfg.Sample > 0 && cfg.Sample < len(members) {
		online = make([]*mlsMember, cfg.Sample)
		for j := range online {
			online[j] = members[j*len(members)/cfg.Sample]
		}
	}
	cpu0, _ := procCPU(os.Getpid())
	busy0, _ := machineBusy()
	catchStart := time.Now()
	workers := 2 * runtime.GOMAXPROCS(0)
	var next atomic.Int64
	var mu sync.Mutex
	var catchUp latencies
	var welcomeMin, welcomeMax, commitMax, treeFetches, commitFetches, downloadMax int
	welcomeMin = 1 << 30
	var firstErr error
	var done atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(online) {
					return
				}
				t0 := time.Now()
				r, err := online[i].catchUp(ctx, addr, base, conv, text, mlsCfg)
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = fmt.Errorf("member %d: %w", i, err)
				}
				catchUp.add(time.Since(t0))
				welcomeMin, welcomeMax = min(welcomeMin, r.welcome), max(welcomeMax, r.welcome)
				commitMax = max(commitMax, r.commitMax)
				if r.fetchedTree {
					treeFetches++
				}
				if r.fetchedCommit {
					commitFetches++
				}
				downloadMax = max(downloadMax, r.downloaded)
				mu.Unlock()
				if err != nil {
					return
				}
				if d := done.Add(1); d%500 == 0 {
					fmt.Fprintf(cfg.Log, "%d members decrypted the announcement (%v)\n", d, time.Since(announced).Round(time.Second))
				}
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	all := time.Since(announced)
	cpu1, _ := procCPU(os.Getpid())
	busy1, _ := machineBusy()
	el := time.Since(catchStart).Seconds()
	// Cores the rest of the machine (other processes) used meanwhile.
	otherCores := round3(max(0, float64(busy1-busy0)/100/el-(cpu1-cpu0).Seconds()/el))
	perMember := (cpu1 - cpu0).Seconds() / float64(len(online))

	// The n-th member joins by invite link with a real client: an external
	// commit (out of band when too large for a frame) from a GroupInfo
	// without the tree; the admin processes it and announces again.
	fmt.Fprintf(cfg.Log, "a real client joins by invite link\n")
	link, err := admin.CreateInviteLink(ctx, string(conv), client.LinkOptions{})
	if err != nil {
		return nil, fmt.Errorf("invite link: %w", err)
	}
	joiner, err := client.Open(ctx, client.Config{Dir: filepath.Join(dir, "joiner"), DeviceName: "bench joiner", ClientName: "parley-bench", Events: true, CipherSuite: suite})
	if err != nil {
		return nil, err
	}
	defer joiner.Close()
	const joinerPhone = "+14155550101"
	if _, err := joiner.Register(ctx, base, joinerPhone, "Bench joiner"); err != nil {
		return nil, fmt.Errorf("register joiner: %w", err)
	}
	if code, err = codes.wait(ctx, joinerPhone); err != nil {
		return nil, err
	}
	if _, err := joiner.Verify(ctx, code, ""); err != nil {
		return nil, fmt.Errorf("verify joiner: %w", err)
	}
	start = time.Now()
	linkCPU0, _ := procCPU(os.Getpid())
	if _, err := joiner.JoinByLink(ctx, link.Link); err != nil {
		return nil, fmt.Errorf("join by link: %w", err)
	}
	linkJoin := time.Since(start)
	linkCPU1, _ := procCPU(os.Getpid())
	linkCommit, linkErr := ts.LargeCommitAt(ctx, conv, c.Epoch)
	start = time.Now()
	const second = "bench announcement: welcome to the member who came by link"
	if _, err := admin.Announce(ctx, string(conv), second); err != nil {
		return nil, fmt.Errorf("second announcement: %w", err)
	}
	if err := waitMessage(ctx, joiner, second); err != nil {
		return nil, err
	}
	secondAnnounce := time.Since(start)
	return map[string]any{
		"members_decrypted":            len(online),
		"catch_up_cpu_s_per_member":    round3(perMember),
		"catch_up_cpu_s_all_members":   round3(perMember * float64(len(members))),
		"other_cores":                  otherCores,
		"members":                      n,
		"create_s":                     round3(create.Seconds()),
		"create_cpu_s":                 round3((createCPU1 - createCPU0).Seconds()), // admin and server: one process
		"link_join_cpu_s":              round3((linkCPU1 - linkCPU0).Seconds()),
		"epochs":                       uint64(c.Epoch),
		"commits":                      uint64(c.Epoch) - 1,
		"tree_bytes":                   len(tree.Data),
		"group_info_bytes":             len(c.GroupInfo),
		"welcome_min_bytes":            welcomeMin,
		"welcome_max_bytes":            welcomeMax,
		"commit_max_bytes":             commitMax,
		"tree_fetches":                 treeFetches,
		"members_fetching_a_commit":    commitFetches,
		"member_download_max_bytes":    downloadMax,
		"all_decrypted_s":              round3(all.Seconds()), // of members_decrypted
		"catch_up_p50_ms":              catchUp.ms(0.50),
		"catch_up_p99_ms":              catchUp.ms(0.99),
		"members_in_parallel":          workers,
		"external_join_commit_bytes":   len(extCommit),
		"external_join_ms":             round3(float64(extTime) / 1e6),
		"link_join_s":                  round3(linkJoin.Seconds()),
		"link_join_commit_out_of_band": linkErr == nil,
		"link_join_commit_bytes":       len(linkCommit.Data),
		// The admin processes the joiner's commit, announces, the joiner decrypts.
		"second_announcement_s": round3(secondAnnounce.Seconds()),
		"payload":               "mls",
		"suite":                 suite.String(),
		"strict_leaves":         cfg.StrictLeaves,
		"key_package_bytes":     kpBytes,
	}, nil
}

// mlsMember is a lightweight community member: a seeded account with a real
// MLS signature key and KeyPackage.
type mlsMember struct {
	benchUser
	phone      string
	credential string
	signer     *mls.Signer
	bundle     *mls.KeyPackageBundle
}

// seedMLSMembers creates n accounts (KeyPackages of the given suite) (phones +1415556…, so n < 10,000), each with one device
// whose identity key is a fresh Ed25519 key (the one its MLS credential
// uses), and uploads one KeyPackage per device.
func seedMLSMembers(ctx context.Context, st parley.Store, suite mls.CipherSuite, n int) ([]*mlsMember, error) {
	signers := make([]*mls.Signer, n)
	if err := parallel(n, func(i int) error {
		s, err := mls.GenerateSigner(suite)
		signers[i] = s
		return err
	}); err != nil {
		return nil, err
	}
	now := time.Now()
	out := make([]*mlsMember, n)
	for i := range out {
		phone := fmt.Sprintf("+1415556%04d", i+1)
		u, err := st.CreateUser(ctx, parley.User{Phone: phone, Name: fmt.Sprintf("member %d", i+1), CreatedAt: now})
		if err != nil {
			return nil, fmt.Errorf("seed user %d: %w", i+1, err)
		}
		secret := benchSecret(i + 1)
		h := sha256.Sum256(secret)
		d, err := st.CreateDevice(ctx, parley.Device{User: u.ID, Name: "bench", Primary: true, SecretHash: h[:],
			IdentityKey: signers[i].Public, CreatedAt: now})
		if err != nil {
			return nil, fmt.Errorf("seed device %d: %w", i+1, err)
		}
		out[i] = &mlsMember{benchUser: benchUser{User: u.ID, Device: d.ID, Secret: secret}, phone: phone,
			credential: fmt.Sprintf("%d:%d", u.ID, d.ID), signer: signers[i]}
	}
	kps := make([]parley.KeyPackage, n)
	if err := parallel(n, func(i int) error {
		m := out[i]
		b, err := mls.NewKeyPackage(suite, m.signer, mls.NewBasicCredential([]byte(m.credential)), mls.KeyPackageOptions{Lifetime: 24 * time.Hour})
		if err != nil {
			return err
		}
		m.bundle = b
		data, err := mls.MarshalKeyPackage(&b.KeyPackage)
		if err != nil {
			return err
		}
		ref, err := b.KeyPackage.Ref()
		kps[i] = parley.KeyPackage{Device: m.Device, Ref: ref, Data: data}
		return err
	}); err != nil {
		return nil, err
	}
	for i, m := range out {
		if err := st.AddKeyPackages(ctx, m.Device, kps[i:i+1]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// parallel runs f(0..n-1) on GOMAXPROCS goroutines and returns the first
// error.
func parallel(n int, f func(i int) error) error {
	var next atomic.Int64
	var first error
	var once sync.Once
	var wg sync.WaitGroup
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if err := f(i); err != nil {
					once.Do(func() { first = err })
					return
				}
			}
		}()
	}
	wg.Wait()
	return first
}

// catchUpResult is what one member saw.
type catchUpResult struct {
	welcome       int // bytes
	commitMax     int
	fetchedTree   bool
	fetchedCommit bool // a commit out of band
	downloaded    int  // Welcome, tree and commit bytes
}

// catchUp logs the member in, joins from its Welcome, processes the
// commits after it and returns once it decrypted the announcement.
func (m *mlsMember) catchUp(ctx context.Context, addr, base string, conv parley.ConversationID, text string, cfg mls.Config) (catchUpResult, error) {
	var r catchUpResult
	c, err := dial(ctx, addr)
	if err != nil {
		return r, err
	}
	defer c.close()
	if err := c.login(int64(m.Device), m.Secret); err != nil {
		return r, err
	}
	var g *mls.Group
	deadline := time.Now().Add(5 * time.Minute)
	_ = c.nc.SetReadDeadline(deadline)
	for {
		f, err := c.recv()
		if err != nil {
			return r, fmt.Errorf("receive: %w", err)
		}
		env := f.GetEnvelope()
		if env == nil || parley.ConversationID(env.ConversationId) != conv {
			continue
		}
		switch parley.EnvelopeKind(env.Kind) {
		case parley.EnvelopeWelcome:
			if g != nil {
				break
			}
			r.welcome = len(env.Payload)
			r.downloaded += len(env.Payload)
			g, err = mls.JoinFromWelcome(env.Payload, m.bundle, nil, cfg, nil)
			if errors.Is(err, mls.ErrMissingRatchetTree) {
				var tree []byte
				if tree, err = m.fetchBound(ctx, base, "trees", conv, parley.Epoch(env.Epoch)); err != nil {
					return r, err
				}
				r.fetchedTree = true
				r.downloaded += len(tree)
				g, err = mls.JoinFromWelcome(env.Payload, m.bundle, tree, cfg, nil)
			}
			if err != nil {
				return r, fmt.Errorf("join from welcome: %w", err)
			}
		case parley.EnvelopeCommit:
			if g == nil || env.Epoch < g.Epoch() {
				break
			}
			commit := env.Payload
			if ref, ok := bytes.CutPrefix(commit, []byte(commitRefPrefix)); ok {
				// Too large for its frame: fetched like a tree, checked
				// against its ref.
				if commit, err = m.fetchBound(ctx, base, "commits", conv, parley.Epoch(env.Epoch)); err != nil {
					return r, err
				}
				if parley.TreeRefOf(commit) != parley.TreeRef(ref) {
					return r, fmt.Errorf("the commit of epoch %d does not match its ref", env.Epoch)
				}
				r.fetchedCommit = true
			}
			r.commitMax = max(r.commitMax, len(commit))
			r.downloaded += len(commit)
			if _, err := g.Process(commit); err != nil {
				return r, fmt.Errorf("process commit of epoch %d: %w", env.Epoch, err)
			}
		case parley.EnvelopeApplication:
			if g == nil {
				return r, fmt.Errorf("an application message before the welcome")
			}
			p, err := g.Process(env.Payload)
			if err != nil {
				return r, fmt.Errorf("decrypt: %w", err)
			}
			if p.Kind != mls.ProcessedApplication || !strings.Contains(string(p.ApplicationData), text) {
				return r, fmt.Errorf("decrypted something other than the announcement")
			}
			_ = c.send(&parleypb.ClientFrame{Body: &parleypb.ClientFrame_Ack{Ack: &parleypb.Ack{ConversationId: string(conv), Seq: env.Seq}}})
			return r, nil
		}
		if err := c.send(&parleypb.ClientFrame{Body: &parleypb.ClientFrame_Ack{Ack: &parleypb.Ack{ConversationId: string(conv), Seq: env.Seq}}}); err != nil {
			return r, err
		}
	}
}

var benchHTTP = &http.Client{Timeout: time.Minute}

// commitRefPrefix starts the log payload of a commit sent out of band
// (client/trees.go).
const commitRefPrefix = "parley-commit-ref:"

// fetchBound downloads, as this member, the ratchet tree (what "trees") or
// the out-of-band commit (what "commits") bound to an epoch.
func (m *mlsMember) fetchBound(ctx context.Context, base, what string, conv parley.ConversationID, epoch parley.Epoch) ([]byte, error) {
	api := &apiclient.Client{Base: base, Auth: apiclient.DeviceAuth(m.Device, m.Secret), HTTP: benchHTTP}
	req, err := api.NewRequest(ctx, http.MethodGet, "/mls/v1/"+what+"/"+string(conv)+"/"+strconv.FormatUint(uint64(epoch), 10), nil)
	if err != nil {
		return nil, err
	}
	resp, err := api.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetch %s of epoch %d: HTTP %d %s", what, epoch, resp.StatusCode, b)
	}
	return b, nil
}

// codeCatcher is a slog handler collecting verification codes from the
// development sender's "verification code for <phone>: <code>" lines.
type codeCatcher struct {
	mu    sync.Mutex
	codes map[string]string
}

func (h *codeCatcher) Enabled(context.Context, slog.Level) bool { return true }
func (h *codeCatcher) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *codeCatcher) WithGroup(string) slog.Handler            { return h }
func (h *codeCatcher) Handle(_ context.Context, r slog.Record) error {
	if rest, ok := strings.CutPrefix(r.Message, "verification code for "); ok {
		if phone, code, ok := strings.Cut(rest, ": "); ok {
			h.mu.Lock()
			h.codes[phone] = code
			h.mu.Unlock()
		}
	}
	return nil
}

func (h *codeCatcher) wait(ctx context.Context, phone string) (string, error) {
	for i := 0; i < 500; i++ {
		h.mu.Lock()
		code, ok := h.codes[phone]
		h.mu.Unlock()
		if ok {
			return code, nil
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
	return "", fmt.Errorf("no verification code for %s", phone)
}

// waitMessage waits for c to receive a message with this text.
func waitMessage(ctx context.Context, c *client.Client, text string) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	for {
		select {
		case ev := <-c.Events():
			if ev.Kind == client.EventMessage && ev.Message != nil && ev.Message.Text == text {
				return nil
			}
		case <-ctx.Done():
			return fmt.Errorf("the joiner never received %q", text)
		}
	}
}
