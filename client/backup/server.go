package backup

import (
	"bytes"
	"context"
	"io"
	"net/http"

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
