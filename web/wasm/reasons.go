//go:build js && wasm

package main

// Reasons of the errors the browser core returns to the UI, beside their
// codes; every one is listed in docs/protocol.md (the root package's reasons
// test checks).
const (
	ReasonFileUnreadable   = "file_unreadable"     // CodeInvalid: the browser could not read the file
	ReasonNoIndexedDB      = "no_indexeddb"        // CodeUnavailable: the browser offers no IndexedDB, so Parley cannot keep its keys
	ReasonOpenInAnotherTab = "open_in_another_tab" // CodeConflict: Parley is open in another tab of this browser
	ReasonStorageFull      = "storage_full"        // CodeTooLarge: the browser's storage for Parley is full
)
