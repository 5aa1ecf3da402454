package cloudapi_test

import (
	"context"
	"strconv"
	"strings"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/store/sqlite"
)

// hostedState returns the business's hosted endpoint state rows in the
// stopped server's store (after e.stop).
func (e *env) hostedState(pnid string) map[string][]byte {
	e.t.Helper()
	var rows map[string][]byte
	e.editHostedState(func(st *sqlite.Store, b parley.UserID) {
		var err error
		if rows, err = st.HostedState(context.Background(), b); err != nil {
			e.t.Fatal(err)
		}
	}, pnid)
	return rows
}

// editHostedState opens the stopped server's store and hands it to edit.
func (e *env) editHostedState(edit func(st *sqlite.Store, business parley.UserID), pnid string) {
	e.t.Helper()
	b, err := strconv.ParseInt(pnid, 10, 64)
	if err != nil {
		e.t.Fatal(err)
	}
	st, err := sqlite.Open(context.Background(), e.ps.DB)
	if err != nil {
		e.t.Fatal(err)
	}
	defer st.Close()
	edit(st, parley.UserID(b))
}

// keysWithPrefix returns the keys of rows starting with p.
func keysWithPrefix(rows map[string][]byte, p string) []string {
	var out []string
	for k := range rows {
		if strings.HasPrefix(k, p) {
			out = append(out, k)
		}
	}
	return out
}
