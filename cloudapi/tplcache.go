package cloudapi

import (
	"context"
	"sync"
	"time"

	"github.com/parleyhq/parley"
)

// templateCacheTTL bounds how long a number's templates are served from
// memory without reading the store. Changes through this Service take
// effect at once; changes through another node of a cluster within the TTL.
const templateCacheTTL = time.Minute

// templateCache holds each number's templates for the send path.
type templateCache struct {
	mu  sync.Mutex
	gen uint64 // bumped by every drop, so a read that raced a change is not cached
	m   map[parley.UserID]templateEntry
}

type templateEntry struct {
	list []parley.Template
	at   time.Time
}

// cachedTemplates returns business's templates, from memory when fresh.
// The slice is shared: callers must not modify it.
func (s *Service) cachedTemplates(ctx context.Context, business parley.UserID) ([]parley.Template, error) {
	now := s.clk.Now()
	c := &s.tpls
	c.mu.Lock()
	e, ok := c.m[business]
	gen := c.gen
	c.mu.Unlock()
	if ok && now.Sub(e.at) < templateCacheTTL && !now.Before(e.at) {
		return e.list, nil
	}
	list, err := s.st.Templates(ctx, business)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.gen == gen {
		if c.m == nil || len(c.m) > 10000 {
			c.m = map[parley.UserID]templateEntry{}
		}
		c.m[business] = templateEntry{list: list, at: now}
	}
	c.mu.Unlock()
	return list, nil
}

// dropTemplates forgets business's cached templates (after a change).
func (s *Service) dropTemplates(business parley.UserID) {
	c := &s.tpls
	c.mu.Lock()
	c.gen++
	delete(c.m, business)
	c.mu.Unlock()
}
