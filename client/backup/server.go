package backup

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"time"

	"github.com/parleyhq/parley/apiclient"
	"github.com/parleyhq/parley/client/localstore"
)

// Path is the server's route of an account's backup (package backups).
const Path = "/v1/backup"

// Upload replaces the account's backup on acct's server with data, a
// backup as Export writes it. The server keeps the ciphertext only; a
// backup over its quota is CodeTooLarge, reason "backup_quota".
func Upload(ctx context.Context, acct localstore.Account, data []byte) error {
	api, err := apiclient.ForDevice(acct.ServerURL, acct.Device, acct.Secret)
	if err != nil {
		return err
	}
	req, err := api.NewRequest(ctx, http.MethodPut, Path, bytes.NewReader(data))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err := api.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return apiclient.ResponseError(resp)
	}
	return nil
}

// Download opens the account's backup on acct's server, for Import; the
// caller closes it. An account without one is CodeNotFound, reason
// "backup_not_found".
func Download(ctx context.Context, acct localstore.Account) (io.ReadCloser, error) {
	api, err := apiclient.ForDevice(acct.ServerURL, acct.Device, acct.Secret)
	if err != nil {
		return nil, err
	}
	req, err := api.NewRequest(ctx, http.MethodGet, Path, nil)
	if err != nil {
		return nil, err
	}
	resp, err := api.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 != 2 {
		defer resp.Body.Close()
		return nil, apiclient.ResponseError(resp)
	}
	return resp.Body, nil
}

// Info tells whether the account has a backup on acct's server, and its
// size and when it was uploaded, without downloading it (a HEAD request):
// a freshly registered device offers a restore only when there is one.
func Info(ctx context.Context, acct localstore.Account) (exists bool, size int64, at time.Time, err error) {
	api, err := apiclient.ForDevice(acct.ServerURL, acct.Device, acct.Secret)
	if err != nil {
		return false, 0, at, err
	}
	req, err := api.NewRequest(ctx, http.MethodHead, Path, nil)
	if err != nil {
		return false, 0, at, err
	}
	resp, err := api.Do(req)
	if err != nil {
		return false, 0, at, err
	}
	resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return false, 0, at, nil
	case resp.StatusCode/100 != 2:
		return false, 0, at, apiclient.ResponseError(resp)
	}
	at, _ = http.ParseTime(resp.Header.Get("Last-Modified"))
	return true, resp.ContentLength, at, nil
}
