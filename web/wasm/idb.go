//go:build js && wasm

package main

import (
	"context"
	"errors"
	"fmt"
	"syscall/js"

	"github.com/parleyhq/parley"
)

// idbKV is the client's KV (client.KV) in one IndexedDB object store: keys
// are strings, values Uint8Arrays. Every Commit is one readwrite
// transaction with strict durability, and returns only once the browser
// reported it complete, so a closed tab never leaves half a step.
type idbKV struct {
	db js.Value
}

const idbStore = "kv"

// openIDB opens (creating if needed) the database name.
func openIDB(name string) (*idbKV, error) {
	factory := js.Global().Get("indexedDB")
	if factory.IsUndefined() || factory.IsNull() {
		return nil, parley.Errorf(parley.CodeUnavailable, ReasonNoIndexedDB, "this browser offers no IndexedDB (private mode?): Parley cannot keep its keys")
	}
	req := factory.Call("open", name, 1)
	upgrade := js.FuncOf(func(js.Value, []js.Value) any {
		db := req.Get("result")
		if !db.Get("objectStoreNames").Call("contains", idbStore).Bool() {
			db.Call("createObjectStore", idbStore)
		}
		return nil
	})
	defer upgrade.Release()
	req.Set("onupgradeneeded", upgrade)
	if err := waitRequest(req, "open"); err != nil {
		return nil, err
	}
	return &idbKV{db: req.Get("result")}, nil
}

// waitRequest waits for an IDBRequest (or IDBOpenDBRequest) to succeed.
func waitRequest(req js.Value, what string) error {
	done := make(chan error, 1)
	ok := js.FuncOf(func(js.Value, []js.Value) any { done <- nil; return nil })
	fail := js.FuncOf(func(js.Value, []js.Value) any { done <- domError(req.Get("error"), what); return nil })
	blocked := js.FuncOf(func(js.Value, []js.Value) any {
		done <- parley.Errorf(parley.CodeConflict, ReasonOpenInAnotherTab, "Parley is open in another tab that blocks the upgrade of its storage")
		return nil
	})
	defer ok.Release()
	defer fail.Release()
	defer blocked.Release()
	req.Set("onsuccess", ok)
	req.Set("onerror", fail)
	if !req.Get("onblocked").IsUndefined() {
		req.Set("onblocked", blocked)
	}
	return <-done
}

// waitTx waits for a transaction to complete.
func waitTx(tx js.Value, what string) error {
	done := make(chan error, 1)
	ok := js.FuncOf(func(js.Value, []js.Value) any { done <- nil; return nil })
	fail := js.FuncOf(func(js.Value, []js.Value) any { done <- domError(tx.Get("error"), what); return nil })
	defer ok.Release()
	defer fail.Release()
	tx.Set("oncomplete", ok)
	tx.Set("onerror", fail)
	tx.Set("onabort", fail)
	return <-done
}

func domError(e js.Value, what string) error {
	msg := "unknown error"
	if !e.IsUndefined() && !e.IsNull() {
		msg = e.Get("name").String() + ": " + e.Get("message").String()
		if e.Get("name").String() == "QuotaExceededError" {
			return parley.Errorf(parley.CodeTooLarge, ReasonStorageFull, "the browser's storage for Parley is full (%s)", msg)
		}
	}
	return fmt.Errorf("indexeddb %s: %s", what, msg)
}

// Load reads every key and value in one readonly transaction.
func (k *idbKV) Load(ctx context.Context) (map[string][]byte, error) {
	tx := k.db.Call("transaction", idbStore, "readonly")
	st := tx.Call("objectStore", idbStore)
	keys := st.Call("getAllKeys")
	vals := st.Call("getAll")
	if err := waitTx(tx, "load"); err != nil {
		return nil, err
	}
	ks, vs := keys.Get("result"), vals.Get("result")
	n := ks.Length()
	if vs.Length() != n {
		return nil, errors.New("indexeddb load: keys and values differ in number")
	}
	out := make(map[string][]byte, n)
	u8 := js.Global().Get("Uint8Array")
	for i := range n {
		v := vs.Index(i)
		if !v.InstanceOf(u8) {
			v = u8.New(v)
		}
		b := make([]byte, v.Length())
		js.CopyBytesToGo(b, v)
		out[ks.Index(i).String()] = b
	}
	return out, nil
}

// Commit applies puts and deletes in one readwrite transaction.
func (k *idbKV) Commit(ctx context.Context, puts map[string][]byte, deletes []string) (err error) {
	var tx js.Value
	defer func() {
		// put and delete throw (DataError, TransactionInactiveError…)
		// instead of failing the request: abort, and report it.
		if r := recover(); r != nil {
			if !tx.IsUndefined() {
				func() { defer func() { _ = recover() }(); tx.Call("abort") }()
			}
			err = fmt.Errorf("indexeddb commit: %v", r)
		}
	}()
	opts := js.Global().Get("Object").New()
	opts.Set("durability", "strict")
	tx = k.db.Call("transaction", idbStore, "readwrite", opts)
	st := tx.Call("objectStore", idbStore)
	for _, key := range deletes {
		st.Call("delete", key)
	}
	u8 := js.Global().Get("Uint8Array")
	for key, v := range puts {
		arr := u8.New(len(v))
		js.CopyBytesToJS(arr, v)
		st.Call("put", arr, key)
	}
	return waitTx(tx, "commit")
}

// Close closes the database.
func (k *idbKV) Close() error {
	k.db.Call("close")
	return nil
}
