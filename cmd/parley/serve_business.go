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

	"github.com/parleyhq/parley/hosted"
	"github.com/parleyhq/parley/server"
)

// businessAPIConfig builds the business API's configuration for serve: the
// operator key is read from keyFile (64 hex digits), created there with a
// fresh random key (mode 0600) when missing.
func businessAPIConfig(dataDir, keyFile, operatorToken string, autoApprove bool) (*server.BusinessAPIConfig, error) {
	if keyFile == "" {
		keyFile = filepath.Join(dataDir, "operator.key")
	}
	key, err := readOperatorKey(keyFile)
	if errors.Is(err, os.ErrNotExist) {
		key = make([]byte, 32)
		_, _ = rand.Read(key)
		if err := os.MkdirAll(filepath.Dir(keyFile), 0o700); err != nil {
			return nil, err
		}
		if err := os.WriteFile(keyFile, []byte(hex.EncodeToString(key)+"\n"), 0o600); err != nil {
			return nil, fmt.Errorf("serve: writing the operator key: %w", err)
		}
	} else if err != nil {
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

func readOperatorKey(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	key, err := hex.DecodeString(strings.TrimSpace(string(data)))
	if err != nil || len(key) != 32 {
		return nil, fmt.Errorf("serve: %s: the operator key is 64 hex digits", path)
	}
	return key, nil
}
