package apiclient

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/parleyhq/parley"
)

// The status routes (docs/protocol.md §16): a post's upload, the feed,
// its media, views and early deletion.

// StatusPath is the route of Status.
const StatusPath = "/v1/status"

// StatusContentType is the media type of a post's upload: a 4-byte
// big-endian length, the JSON StatusUpload, then the media ciphertext.
const StatusContentType = "application/vnd.parley.status"

// MaxStatusMedia bounds the media ciphertext StatusMedia reads.
const MaxStatusMedia = 64 << 20

// StatusUpload describes a post being uploaded.
type StatusUpload struct {
	ClientID   string          `json:"client_id"`
	KeyID      string          `json:"key_id"`
	Audience   []parley.UserID `json:"audience"`
	Ciphertext []byte          `json:"ciphertext"`
}

// StatusCreated is the server's answer to a post.
type StatusCreated struct {
	ID        parley.StatusID `json:"id"`
	CreatedAt time.Time       `json:"created_at"`
	ExpiresAt time.Time       `json:"expires_at"`
}

// StatusPost is a post in a feed.
type StatusPost struct {
	ID           parley.StatusID `json:"id"`
	Poster       parley.UserID   `json:"poster"`
	PosterDevice parley.DeviceID `json:"poster_device"`
	ClientID     string          `json:"client_id"`
	KeyID        string          `json:"key_id"`
	Ciphertext   []byte          `json:"ciphertext"`
	MediaSize    int64           `json:"media_size,omitempty"`
	CreatedAt    time.Time       `json:"created_at"`
	ExpiresAt    time.Time       `json:"expires_at"`
	Mine         bool            `json:"mine,omitempty"`
	ViewedAt     *time.Time      `json:"viewed_at,omitempty"`
	Views        int             `json:"views,omitempty"`
}

// StatusFeed is the caller's feed and the server's clock.
type StatusFeed struct {
	Posts []StatusPost `json:"posts"`
	Now   time.Time    `json:"now"`
}

// StatusView is one viewer's recorded view.
type StatusView struct {
	User parley.UserID `json:"user"`
	At   time.Time     `json:"at"`
}

// PostStatus uploads a sealed post and its media ciphertext (nil for none).
func (c *Client) PostStatus(ctx context.Context, up StatusUpload, media []byte) (StatusCreated, error) {
	js, err := json.Marshal(up)
	if err != nil {
		return StatusCreated{}, err
	}
	body := binary.BigEndian.AppendUint32(make([]byte, 0, 4+len(js)+len(media)), uint32(len(js)))
	body = append(append(body, js...), media...)
	req, err := c.NewRequest(ctx, http.MethodPost, StatusPath, bytes.NewReader(body))
	if err != nil {
		return StatusCreated{}, err
	}
	req.Header.Set("Content-Type", StatusContentType)
	var out StatusCreated
	return out, c.do(req, &out)
}

// do sends req and decodes a JSON answer into out (when not nil).
func (c *Client) do(req *http.Request, out any) error {
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return ResponseError(resp)
	}
	if out == nil {
		return nil
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxAnswer))
	if err != nil {
		return &parley.Error{Code: parley.CodeUnavailable, Reason: ReasonUnreachable, Message: req.Method + " " + req.URL.Path + ": the answer was cut short", Err: err}
	}
	if err := json.Unmarshal(data, out); err != nil {
		return parley.Errorf(parley.CodeInternal, ReasonBadAnswer, "%s %s: %v", req.Method, req.URL.Path, err)
	}
	return nil
}

// StatusFeed returns the caller's feed. With a non-zero after and wait,
// only the posts created after after, as soon as there is one, or none
// when wait (at most 30 s) has passed.
func (c *Client) StatusFeed(ctx context.Context, after time.Time, wait time.Duration) (StatusFeed, error) {
	path := StatusPath
	if !after.IsZero() && wait > 0 {
		path += "?after=" + url.QueryEscape(after.UTC().Format(time.RFC3339Nano)) + "&wait=" + strconv.FormatFloat(wait.Seconds(), 'f', 3, 64)
	}
	var f StatusFeed
	return f, c.Call(ctx, http.MethodGet, path, nil, &f)
}

// StatusMedia returns the media ciphertext of post id.
func (c *Client) StatusMedia(ctx context.Context, id parley.StatusID) ([]byte, error) {
	req, err := c.NewRequest(ctx, http.MethodGet, StatusPath+"/"+url.PathEscape(string(id))+"/media", nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, ResponseError(resp)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxStatusMedia+1))
	if err != nil {
		return nil, &parley.Error{Code: parley.CodeUnavailable, Reason: ReasonUnreachable, Message: "status media: " + err.Error(), Err: err}
	}
	if len(data) > MaxStatusMedia {
		return nil, parley.Errorf(parley.CodeInternal, ReasonBadAnswer, "status media larger than %d bytes", MaxStatusMedia)
	}
	return data, nil
}

// ViewStatus records the caller's view of post id.
func (c *Client) ViewStatus(ctx context.Context, id parley.StatusID) error {
	return c.Call(ctx, http.MethodPost, StatusPath+"/"+url.PathEscape(string(id))+"/views", nil, nil)
}

// StatusViews returns the recorded views of the caller's post id.
func (c *Client) StatusViews(ctx context.Context, id parley.StatusID) ([]StatusView, error) {
	var out struct {
		Views []StatusView `json:"views"`
	}
	err := c.Call(ctx, http.MethodGet, StatusPath+"/"+url.PathEscape(string(id))+"/views", nil, &out)
	return out.Views, err
}

// DeleteStatus deletes the caller's post id (and its media) now.
func (c *Client) DeleteStatus(ctx context.Context, id parley.StatusID) error {
	return c.Call(ctx, http.MethodDelete, StatusPath+"/"+url.PathEscape(string(id)), nil, nil)
}
