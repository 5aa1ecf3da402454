//go:build js && wasm

package main

import (
	"encoding/json"
	"syscall/js"

	"github.com/parleyhq/parley/client/backup"
)

// backupSettingKey is the localStorage key of the page's backup setting.
const backupSettingKey = "parley-backup"

// localSchedule keeps the backup setting (with the recovery key, as the
// CLI keeps it in the profile) in the origin's localStorage, beside the
// IndexedDB that already holds every message and the device's secrets:
// the key gives someone who can read this browser's storage nothing more.
type localSchedule struct{}

func (localSchedule) storage() (js.Value, bool) {
	ls := js.Global().Get("localStorage")
	return ls, !ls.IsUndefined() && !ls.IsNull()
}

func (l localSchedule) Load() (backup.Schedule, error) {
	var s backup.Schedule
	ls, ok := l.storage()
	if !ok {
		return s, nil
	}
	v := ls.Call("getItem", backupSettingKey)
	if v.IsNull() || v.IsUndefined() {
		return s, nil
	}
	return s, json.Unmarshal([]byte(v.String()), &s)
}

func (l localSchedule) Save(s backup.Schedule) error {
	b, err := json.Marshal(s)
	if err != nil {
		return err
	}
	if ls, ok := l.storage(); ok {
		ls.Call("setItem", backupSettingKey, string(b))
	}
	return nil
}
