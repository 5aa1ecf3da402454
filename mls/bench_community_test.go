package mls

import (
	"fmt"
	"sync"
	"testing"
)

// Community benchmarks: the phases of a member's life in a large community
// built the way Parley's client builds one (`parley bench community`): the
// creator commits the first 63 adds with the tree inline, then batches of
// communityBatch adds with the ratchet tree out of band, none of these
// commits carrying an UpdatePath. Each phase is one sub-benchmark, so that
// `go test -run '^$' -bench Community -cpuprofile …` profiles one phase:
//
//   - phase=create: the creator builds the whole community (KeyPackages
//     made outside the timer);
//   - phase=join-first, phase=join-last: a member of the first (last) batch
//     joins from its Welcome and the out-of-band tree of its epoch,
//     verifying the whole tree (§12.4.3.1);
//   - phase=catchup-first: a first-batch member processes every later
//     batch's commit;
//   - phase=external: a new member makes an external commit into the
//     finished community (its size is reported as commit-bytes).

const (
	communityInline = 63
	communityBatch  = 520
)

// communityLog is a built community: per epoch, the messages a member sees.
type communityLog struct {
	cs       CipherSuite
	creator  *Group
	bundles  []*KeyPackageBundle // bundles[i] is member i+1's
	batchEnd []int               // batchEnd[e] = members added up to epoch e+1
	welcomes [][]byte            // welcomes[e]: Welcome of the commit into epoch e+1
	commits  [][]byte            // commits[e]: commit into epoch e+1
	trees    [][]byte            // trees[e]: tree of epoch e+1
	groupInf []byte              // last epoch's GroupInfo (tree out of band)
}

var (
	communityMu    sync.Mutex
	communityCache = map[string]*communityLog{}
)

// communityKeyPackages returns n-1 member bundles and the creator's.
func communityKeyPackages(tb testing.TB, cs CipherSuite, n int) ([]*KeyPackageBundle, *KeyPackageBundle) {
	bundles := make([]*KeyPackageBundle, n-1)
	if err := parallelFor(n-1, func(i int) error {
		s, err := GenerateSigner(cs)
		if err != nil {
			return err
		}
		bundles[i], err = NewKeyPackage(cs, s, NewBasicCredential([]byte(fmt.Sprintf("member %d", i+1))), KeyPackageOptions{})
		return err
	}); err != nil {
		tb.Fatal(err)
	}
	creator, _ := newTestBundle(tb, cs, "creator")
	return bundles, creator
}

// buildCommunity builds an n-member community from bundles. With fill,
// the last batched commit carries the creator's UpdatePath (the client's
// way, see client.commitGroup).
func buildCommunity(tb testing.TB, cs CipherSuite, bundles []*KeyPackageBundle, creator *KeyPackageBundle, fill bool) *communityLog {
	c := &communityLog{cs: cs, bundles: bundles}
	g, err := CreateGroup([]byte("community"), creator, Config{})
	if err != nil {
		tb.Fatal(err)
	}
	for lo := 0; lo < len(bundles); {
		hi := min(lo+communityBatch, len(bundles))
		if lo == 0 {
			hi = min(communityInline, len(bundles))
		}
		kps := make([]*KeyPackage, hi-lo)
		for i := range kps {
			kps[i] = &bundles[lo+i].KeyPackage
		}
		g.SetOmitRatchetTree(lo > 0)
		pc, err := g.Commit(CommitParams{Adds: kps, Update: fill && lo > 0 && hi == len(bundles)})
		if err != nil {
			tb.Fatal(err)
		}
		if err := g.MergePendingCommit(); err != nil {
			tb.Fatal(err)
		}
		c.welcomes = append(c.welcomes, pc.Welcome)
		c.commits = append(c.commits, pc.Commit)
		var tree []byte
		if lo > 0 {
			tree = pc.RatchetTree()
		}
		c.trees = append(c.trees, tree)
		c.batchEnd = append(c.batchEnd, hi)
		c.groupInf = pc.GroupInfo
		lo = hi
	}
	c.creator = g
	return c
}

// community returns the cached n-member community of suite cs.
func community(tb testing.TB, cs CipherSuite, n int, fill bool) *communityLog {
	communityMu.Lock()
	defer communityMu.Unlock()
	key := fmt.Sprintf("%d/%d/%v", cs, n, fill)
	if c, ok := communityCache[key]; ok {
		return c
	}
	bundles, creator := communityKeyPackages(tb, cs, n)
	c := buildCommunity(tb, cs, bundles, creator, fill)
	communityCache[key] = c
	return c
}

// joinBatch joins member bundles[m] (added in epoch e+1) from its Welcome.
func (c *communityLog) join(tb testing.TB, e, m int, lazy bool) *Group {
	g, err := JoinFromWelcome(c.welcomes[e], c.bundles[m], c.trees[e], Config{DeferLeafSignatures: lazy}, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return g
}

func BenchmarkCommunity(b *testing.B) {
	for _, cs := range []CipherSuite{testSuite, MLS_128_MLKEM768X25519_AES128GCM_SHA256_Ed25519} {
		for _, n := range []int{1000, 5000} {
			for _, fill := range []bool{false, true} {
				for _, lazy := range []bool{false, true} {
					name := func(phase string) string {
						return fmt.Sprintf("suite=%d/members=%d/fill=%v/defer=%v/phase=%s", cs, n, fill, lazy, phase)
					}
					b.Run(name("create"), func(b *testing.B) {
						bundles, creator := communityKeyPackages(b, cs, n)
						b.ResetTimer()
						var c *communityLog
						for i := 0; i < b.N; i++ {
							c = buildCommunity(b, cs, bundles, creator, fill)
						}
						b.ReportMetric(float64(len(c.commits[len(c.commits)-1])), "last-commit-bytes")
						b.ReportMetric(float64(len(c.trees[len(c.trees)-1])), "tree-bytes")
					})
					b.Run(name("join-first"), func(b *testing.B) {
						c := community(b, cs, n, fill)
						b.ResetTimer()
						for i := 0; i < b.N; i++ {
							c.join(b, 1, c.batchEnd[0], lazy)
						}
						b.ReportMetric(float64(len(c.trees[1])), "tree-bytes")
					})
					b.Run(name("join-last"), func(b *testing.B) {
						c := community(b, cs, n, fill)
						last := len(c.welcomes) - 1
						b.ResetTimer()
						for i := 0; i < b.N; i++ {
							c.join(b, last, len(c.bundles)-1, lazy)
						}
						b.ReportMetric(float64(len(c.trees[last])), "tree-bytes")
						b.ReportMetric(float64(len(c.welcomes[last])), "welcome-bytes")
					})
					b.Run(name("catchup-first"), func(b *testing.B) {
						c := community(b, cs, n, fill)
						b.ResetTimer()
						for i := 0; i < b.N; i++ {
							b.StopTimer()
							g := c.join(b, 1, c.batchEnd[0], lazy)
							b.StartTimer()
							for e := 2; e < len(c.commits); e++ {
								if _, err := g.Process(c.commits[e]); err != nil {
									b.Fatal(err)
								}
							}
						}
						b.ReportMetric(float64(len(c.commits)-2), "commits")
					})
					b.Run(name("external"), func(b *testing.B) {
						c := community(b, cs, n, fill)
						last := c.trees[len(c.trees)-1]
						s, err := GenerateSigner(cs)
						if err != nil {
							b.Fatal(err)
						}
						var size int
						b.ResetTimer()
						for i := 0; i < b.N; i++ {
							_, commit, err := JoinExternal(c.groupInf, s, NewBasicCredential([]byte("joiner")), Config{}, ExternalJoinOptions{RatchetTree: last})
							if err != nil {
								b.Fatal(err)
							}
							size = len(commit)
						}
						b.ReportMetric(float64(size), "commit-bytes")
					})
				}
			}
		}
	}
}
