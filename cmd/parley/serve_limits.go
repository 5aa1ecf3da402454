//go:build !servestub

package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// codeKey returns the key verification and link codes are stored under (as
// HMAC-SHA256): 64 hex digits read from keyFile, default DATA/code.key,
// created there with a fresh random key (mode 0600) when missing. Every
// node of a cluster must be given the same file.
func codeKey(dataDir, keyFile string) ([]byte, error) {
	if keyFile == "" {
		keyFile = filepath.Join(dataDir, "code.key")
	}
	data, err := os.ReadFile(keyFile)
	if errors.Is(err, os.ErrNotExist) {
		key := make([]byte, 32)
		_, _ = rand.Read(key)
		if err := os.MkdirAll(filepath.Dir(keyFile), 0o700); err != nil {
			return nil, fmt.Errorf("serve: code key: %w", err)
		}
		if err := os.WriteFile(keyFile, []byte(hex.EncodeToString(key)+"\n"), 0o600); err != nil {
			return nil, fmt.Errorf("serve: writing the code key: %w", err)
		}
		return key, nil
	}
	if err != nil {
		return nil, fmt.Errorf("serve: code key: %w", err)
	}
	key, err := hex.DecodeString(strings.TrimSpace(string(data)))
	if err != nil || len(key) != 32 {
		return nil, fmt.Errorf("serve: %s: the code key is 64 hex digits", keyFile)
	}
	return key, nil
}
