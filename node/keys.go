package node

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/parleyhq/parley/hosted"
	"github.com/parleyhq/parley/server"
)

// codeKey returns the key verification and link codes are stored under (as
// HMAC-SHA256): 64 hex digits read from keyFile, default DATA/code.key,
// created there with a fresh random key (mode 0600) when missing. Every
// node of a cluster must be given the same file.
func codeKey(dataDir, keyFile string) ([]byte, error) {
	if keyFile == "" {
		keyFile = filepath.Join(dataDir, "code.key")
	}
	return readOrCreateKey(keyFile, "code key")
}

// businessAPIConfig builds the business API's configuration: the operator
// key is read from keyFile (64 hex digits), default DATA/operator.key,
// created there with a fresh random key (mode 0600) when missing.
func businessAPIConfig(dataDir, keyFile, operatorToken string, autoApprove bool) (*server.BusinessAPIConfig, error) {
	if keyFile == "" {
		keyFile = filepath.Join(dataDir, "operator.key")
	}
	key, err := readOrCreateKey(keyFile, "operator key")
	if err != nil {
		return nil, err
	}
	return &server.BusinessAPIConfig{
		HostedDir:     filepath.Join(dataDir, "hosted"),
		OperatorKey:   key,
		OperatorToken: operatorToken,
		AutoApprove:   autoApprove,
		Hosted:        hosted.ForServer,
	}, nil
}

// readOrCreateKey reads the 32-byte key stored as 64 hex digits in path,
// or, when path does not exist, writes a fresh random one there (mode 0600,
// its folder created mode 0700). A file that exists but holds no such key
// is an error: a key is never replaced.
func readOrCreateKey(path, what string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		key := make([]byte, 32)
		_, _ = rand.Read(key)
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("serve: %s: %w", what, err)
		}
		if err := os.WriteFile(path, []byte(hex.EncodeToString(key)+"\n"), 0o600); err != nil {
			return nil, fmt.Errorf("serve: writing the %s: %w", what, err)
		}
		return key, nil
	}
	if err != nil {
		return nil, fmt.Errorf("serve: %s: %w", what, err)
	}
	key, err := hex.DecodeString(strings.TrimSpace(string(data)))
	if err != nil || len(key) != 32 {
		return nil, fmt.Errorf("serve: %s: the %s is 64 hex digits", path, what)
	}
	return key, nil
}
