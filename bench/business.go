package bench

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/apiclient"
	"github.com/parleyhq/parley/client"
	"github.com/parleyhq/parley/httperr"
	"github.com/parleyhq/parley/mls"
	"github.com/parleyhq/parley/webhook"
)

// runBusiness measures the business API end to end: one business number
// (hosted endpoint, tier unlimited, throughput limit raised) sends MARKETING
// template messages to opted-in customers through POST /PNID/messages.
// Each answer means the message was encrypted by the hosted endpoint (MLS)
// and is durable in the server's log for the customer. Phase one is first
// contact (each send creates the customer's MLS chat); phase two, the
// measured one, sends over the existing chats for cfg.Duration with
// cfg.Concurrency requests in flight.
func runBusiness(ctx context.Context, cfg Config) (map[string]any, error) {
	n := cfg.Customers
	opToken := "bench-operator"
	var biz benchBusiness
	var customers []string
	orig := cfg.ServerCommand
	cfg.ServerCommand = func(dir string) *exec.Cmd {
		c := orig(dir)
		c.Args = append(c.Args, "--operator-token", opToken)
		if cfg.Webhook {
			// The bench's webhook receiver is on 127.0.0.1: allowed as an
			// operator allows a private range.
			c.Args = append(c.Args, "--outbound-allow", "127.0.0.1/32")
		}
		return c
	}
	seedStart := time.Now()
	srv, err := startServer(ctx, cfg, func(ctx context.Context, st parley.Store) (err error) {
		biz, customers, err = seedBusiness(ctx, st, n, cfg.Log)
		return err
	})
	if err != nil {
		return nil, err
	}
	defer srv.stop()
	base := "http://" + srv.addr
	fmt.Fprintf(cfg.Log, "seeded a business and %d opted-in customers in %v\n", n, time.Since(seedStart).Round(time.Millisecond))

	// The business's own device: a client profile made from the seeded
	// credentials; it links the hosted endpoint and makes a token.
	profile, err := os.MkdirTemp("", "parley-bench-biz-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(profile)
	st, err := client.OpenSQLiteStore(ctx, filepath.Join(profile, "parley.db"))
	if err != nil {
		return nil, err
	}
	biz.acct.ServerURL = base
	if err := st.PutAccount(ctx, biz.acct); err != nil {
		st.Close()
		return nil, err
	}
	st.Close()
	owner, err := client.Open(ctx, client.Config{Dir: profile})
	if err != nil {
		return nil, err
	}
	defer owner.Close()
	code, _, err := owner.LinkCode(ctx)
	if err != nil {
		return nil, fmt.Errorf("link code: %w", err)
	}
	owned := &apiclient.Client{Base: base, Auth: apiclient.DeviceAuth(biz.acct.Device, biz.acct.Secret)}
	num, err := owned.EnableAPI(ctx, code)
	if err != nil {
		return nil, fmt.Errorf("enable: %w", err)
	}
	pnid := num["phone_number_id"].(string)
	tok, err := owned.CreateToken(ctx, "bench", nil)
	if err != nil {
		return nil, err
	}
	operator := &apiclient.Client{Base: base, Auth: apiclient.Bearer(opToken)}
	if _, err := operator.SetNumber(ctx, pnid, apiclient.Object{"tier": parley.TierUnlimited, "throughput": 1000000, "auto_approve": true}); err != nil {
		return nil, err
	}
	api := &apiclient.Client{Base: base, Auth: apiclient.Bearer(tok["token"].(string)),
		HTTP: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: cfg.Concurrency * 2}}}
	if _, err := api.CreateTemplate(ctx, pnid, apiclient.Template{Name: "bench_offer", Language: "en_US", Category: "MARKETING",
		Body: "Hi {{1}}, today only: {{2}} off"}); err != nil {
		return nil, err
	}
	var hooks, posts atomic.Int64
	if cfg.Webhook {
		// A local receiver: the GET handshake, then, as a real receiver
		// does, every POST's signature checked and its changes counted.
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		hs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodGet {
				io.WriteString(w, r.URL.Query().Get("hub.challenge"))
				return
			}
			changes, err := webhook.ReadRequest(r, "bench-secret")
			if err != nil {
				http.Error(w, err.Error(), httperr.StatusOf(err))
				return
			}
			posts.Add(1)
			hooks.Add(int64(len(changes)))
		})}
		go hs.Serve(ln)
		defer hs.Close()
		if err := owned.Call(ctx, "PUT", webhook.Path, map[string]string{"callback_url": "http://" + ln.Addr().String() + "/hook",
			"verify_token": "bench", "app_secret": "bench-secret"}, nil); err != nil {
			return nil, fmt.Errorf("webhook: %w", err)
		}
	}
	owner.Close()

	send := func(ctx context.Context, i int) error {
		err := api.Call(ctx, "POST", apiclient.CloudPath(pnid, "/messages"), map[string]any{"messaging_product": "whatsapp", "to": customers[i%n], "type": "template",
			"template": map[string]any{"name": "bench_offer", "language": map[string]any{"code": "en_US"},
				"components": []any{map[string]any{"type": "body", "parameters": []any{
					map[string]any{"type": "text", "text": "customer " + strconv.Itoa(i%n)},
					map[string]any{"type": "text", "text": "20%"}}}}}}, nil)
		if err != nil {
			return fmt.Errorf("send %d: %w", i, err)
		}
		return nil
	}

	// Phase 1: first contact with every customer.
	fmt.Fprintf(cfg.Log, "first contact with %d customers…\n", n)
	firstStart := time.Now()
	if _, err := drive(ctx, cfg.Concurrency, func(i int) bool { return i < n }, send); err != nil {
		return nil, err
	}
	firstEl := time.Since(firstStart)

	// Phase 2: sends over existing chats for cfg.Duration.
	fmt.Fprintf(cfg.Log, "sending for %v with %d requests in flight…\n", cfg.Duration, cfg.Concurrency)
	cpu := startCPU(srv.pid)
	hooksBefore, postsBefore := hooks.Load(), posts.Load()
	start := time.Now()
	deadline := start.Add(cfg.Duration)
	lat, err := drive(ctx, cfg.Concurrency, func(int) bool { return time.Now().Before(deadline) }, send)
	if err != nil {
		return nil, err
	}
	el := time.Since(start)
	serverCPU, clientCPU, otherCPU := cpu.stop()
	sent := len(lat.d)
	return map[string]any{
		"customers":              n,
		"concurrency":            cfg.Concurrency,
		"first_contact_sends":    n,
		"first_contact_per_s":    round3(float64(n) / firstEl.Seconds()),
		"sends":                  sent,
		"seconds":                round3(el.Seconds()),
		"sends_per_s":            round3(float64(sent) / el.Seconds()),
		"latency_p50_ms":         lat.ms(0.50),
		"latency_p99_ms":         lat.ms(0.99),
		"server_cpu_cores":       serverCPU,
		"sends_per_server_cpu_s": round3(float64(sent) / el.Seconds() / max(serverCPU, 1e-9)),
		"bench_client_cpu":       clientCPU,
		"other_cpu_cores":        otherCPU,
		"server_rss_kib":         srv.rssKiB(),
		"message":                "MARKETING template, 2 parameters, MLS-encrypted by the hosted endpoint",
		"customers_online":       false,
		"webhook":                cfg.Webhook,
		"webhook_events":         hooks.Load() - hooksBefore,
		"webhook_posts":          posts.Load() - postsBefore,
		"business_api_endpoint":  "POST /v23.0/PNID/messages",
	}, nil
}

// drive runs send(i) for i = 0, 1, … while more(i), with conc in flight,
// and returns each send's latency. The first error stops it.
func drive(ctx context.Context, conc int, more func(int) bool, send func(context.Context, int) error) (*latencies, error) {
	var next atomic.Int64
	var mu sync.Mutex
	all := &latencies{}
	var firstErr error
	var wg sync.WaitGroup
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for w := 0; w < conc; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mine := &latencies{}
			for {
				i := int(next.Add(1) - 1)
				if !more(i) || ctx.Err() != nil {
					break
				}
				t := time.Now()
				if err := send(ctx, i); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					cancel()
					break
				}
				mine.add(time.Since(t))
			}
			mu.Lock()
			all.merge(mine)
			mu.Unlock()
		}()
	}
	wg.Wait()
	return all, firstErr
}

// customerPhone is a valid phone number for customer i (the business API
// resolves customers by number, so the numbers must pass validation):
// 555-xxxx numbers of a few US area codes, 10,000 per area code.
func customerPhone(i int) string {
	areas := []int{415, 650, 212, 617, 206, 303, 512, 702, 808, 907}
	return fmt.Sprintf("+1%d555%04d", areas[(i/10000)%len(areas)], i%10000)
}

type benchBusiness struct {
	acct client.Account
}

// seedBusiness creates the business (a user and a primary device with a
// real MLS signature key) and n customers, each with one device, a real
// last-resort MLS KeyPackage and an opt-in to the business's marketing.
func seedBusiness(ctx context.Context, st parley.Store, n int, log io.Writer) (benchBusiness, []string, error) {
	cs, ok := st.(parley.CloudAPIStore)
	if !ok {
		return benchBusiness{}, nil, fmt.Errorf("the store does not implement parley.CloudAPIStore")
	}
	now := time.Now()
	mkUser := func(phone, name string) (parley.User, parley.Device, *mls.Signer, []byte, error) {
		u, err := st.CreateUser(ctx, parley.User{Phone: phone, Name: name, CreatedAt: now})
		if err != nil {
			return u, parley.Device{}, nil, nil, err
		}
		sig, err := mls.GenerateSigner(client.CipherSuite)
		if err != nil {
			return u, parley.Device{}, nil, nil, err
		}
		secret := make([]byte, 32)
		_, _ = rand.Read(secret)
		h := sha256.Sum256(secret)
		d, err := st.CreateDevice(ctx, parley.Device{User: u.ID, Name: name, Primary: true, SecretHash: h[:], IdentityKey: sig.Public, CreatedAt: now})
		return u, d, sig, secret, err
	}
	bu, bd, bsig, bsecret, err := mkUser("+13125550100", "Bench Shop")
	if err != nil {
		return benchBusiness{}, nil, err
	}
	biz := benchBusiness{acct: client.Account{User: bu.ID, Device: bd.ID, Secret: bsecret, Phone: bu.Phone, Name: bu.Name,
		Primary: true, SigPriv: bsig.Private, SigPub: bsig.Public}}
	phones := make([]string, 0, n)
	if n > 100000 {
		return biz, nil, fmt.Errorf("at most 100000 customers")
	}
	for i := 0; i < n; i++ {
		u, d, sig, _, err := mkUser(customerPhone(i), fmt.Sprintf("customer %d", i))
		if err != nil {
			return biz, nil, fmt.Errorf("seed customer %d: %w", i, err)
		}
		cred := strconv.FormatInt(int64(u.ID), 10) + ":" + strconv.FormatInt(int64(d.ID), 10)
		b, err := mls.NewKeyPackage(client.CipherSuite, sig, mls.NewBasicCredential([]byte(cred)),
			mls.KeyPackageOptions{LastResort: true, Lifetime: 30 * 24 * time.Hour})
		if err != nil {
			return biz, nil, err
		}
		ref, err := b.KeyPackage.Ref()
		if err != nil {
			return biz, nil, err
		}
		data, err := mls.MarshalKeyPackage(&b.KeyPackage)
		if err != nil {
			return biz, nil, err
		}
		if err := st.AddKeyPackages(ctx, d.ID, []parley.KeyPackage{{Device: d.ID, Ref: ref, Data: data, LastResort: true}}); err != nil {
			return biz, nil, err
		}
		if err := cs.PutOptIn(ctx, parley.OptIn{Business: bu.ID, Customer: u.ID, Source: "bench", Text: "Send me offers", At: now}); err != nil {
			return biz, nil, err
		}
		phones = append(phones, u.Phone[1:])
		if (i+1)%2000 == 0 {
			fmt.Fprintf(log, "  seeded %d customers\n", i+1)
		}
	}
	return biz, phones, nil
}
