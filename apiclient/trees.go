package apiclient

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/parleyhq/parley"
)

// ReasonTreeTransfer (CodeUnavailable, CodeInternal): uploading or fetching
// a ratchet tree or an out-of-band commit failed.
const ReasonTreeTransfer = "tree_transfer"

// TreeFetchAttempts bounds FetchBound's tries while the tree or commit is
// not there yet (or the server is unreachable): about 6 s in all.
const TreeFetchAttempts = 7

// treeError is the *parley.Error of a failed tree request, keeping the
// server's code and reason when its body has them.
func treeError(resp *http.Response) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if e, ok := ParseError(resp.StatusCode, b); ok {
		return e
	}
	code := parley.CodeInternal
	if resp.StatusCode >= 500 {
		code = parley.CodeUnavailable
	}
	return parley.Errorf(code, ReasonTreeTransfer, "tree request: HTTP %d", resp.StatusCode)
}

// treeDo sends a tree request; no answer is CodeUnavailable ReasonTreeTransfer.
func (c *Client) treeDo(ctx context.Context, method, path string, body []byte) (*http.Response, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := c.NewRequest(ctx, method, path, rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/octet-stream")
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, &parley.Error{Code: parley.CodeUnavailable, Reason: ReasonTreeTransfer, Message: "the server could not be reached", Err: err}
	}
	return resp, nil
}

// PutTree uploads the ratchet tree (or large commit) of a conversation's
// next epoch to /mls/v1/trees and returns its ref, checked to be the
// bytes' own (parley.TreeRefOf).
func (c *Client) PutTree(ctx context.Context, conv parley.ConversationID, tree []byte) (parley.TreeRef, error) {
	resp, err := c.treeDo(ctx, http.MethodPut, "/mls/v1/trees?conversation="+url.QueryEscape(string(conv)), tree)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
		return "", treeError(resp)
	}
	var out struct {
		Ref parley.TreeRef `json:"ref"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.Ref != parley.TreeRefOf(tree) {
		return "", parley.Errorf(parley.CodeInternal, ReasonTreeTransfer, "the server answered the tree upload with a wrong ref")
	}
	return out.Ref, nil
}

// FetchBound downloads what is bound to a conversation's epoch under
// /mls/v1/<what>/ ("trees" or "commits"), retrying with backoff, at most
// TreeFetchAttempts times, while the server answers notFound (not bound
// yet) or cannot be reached. The bytes are not trusted: the caller checks
// them (package mls against the signed GroupInfo, or the commit's ref).
func (c *Client) FetchBound(ctx context.Context, what, notFound string, conv parley.ConversationID, epoch parley.Epoch) ([]byte, error) {
	wait := 50 * time.Millisecond
	var last error
	for attempt := 0; attempt < TreeFetchAttempts; attempt++ {
		if attempt > 0 {
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return nil, &parley.Error{Code: parley.CodeUnavailable, Reason: ReasonTreeTransfer, Message: "fetching the ratchet tree was cancelled", Err: ctx.Err()}
			}
			wait = min(2*wait, 2*time.Second)
		}
		resp, err := c.treeDo(ctx, http.MethodGet, "/mls/v1/"+what+"/"+url.PathEscape(string(conv))+"/"+strconv.FormatUint(uint64(epoch), 10), nil)
		if err != nil {
			last = err
			continue
		}
		if resp.StatusCode == http.StatusOK {
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				last = &parley.Error{Code: parley.CodeUnavailable, Reason: ReasonTreeTransfer, Message: "reading the download failed", Err: err}
				continue
			}
			return b, nil
		}
		last = treeError(resp)
		resp.Body.Close()
		if parley.ErrorReason(last) != notFound && parley.ErrorCode(last) != parley.CodeUnavailable {
			break
		}
	}
	return nil, last
}
