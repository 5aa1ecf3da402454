package bridge

import "github.com/parleyhq/parley/client/broadcast"

// BroadcastRecipient is api.ts BroadcastRecipient.
type BroadcastRecipient struct {
	User  int64  `json:"user"`
	Title string `json:"title"`
}

// BroadcastList is api.ts BroadcastList.
type BroadcastList struct {
	ID         string               `json:"id"`
	Name       string               `json:"name"`
	Recipients []BroadcastRecipient `json:"recipients"`
}

// BroadcastEdit is api.ts BroadcastEdit.
type BroadcastEdit struct {
	Rename string   `json:"rename"`
	Add    []string `json:"add"`
	Remove []string `json:"remove"`
}

// BroadcastCopy is api.ts BroadcastCopy.
type BroadcastCopy struct {
	User  int64  `json:"user"`
	Title string `json:"title"`
	Chat  string `json:"chat"`
	// Error is why the copy was refused ("" when the server accepted it;
	// accepted is not delivered: see docs/broadcast.md).
	Error string `json:"error"`
}

// BroadcastSent is api.ts BroadcastSent.
type BroadcastSent struct {
	List   string          `json:"list"`
	Copies []BroadcastCopy `json:"copies"`
}

// BroadcastListOf converts a broadcast list.
func BroadcastListOf(l broadcast.List) BroadcastList {
	out := BroadcastList{ID: l.ID, Name: l.Name, Recipients: make([]BroadcastRecipient, 0, len(l.Recipients))}
	for _, r := range l.Recipients {
		out.Recipients = append(out.Recipients, BroadcastRecipient{User: int64(r.User), Title: r.Title})
	}
	return out
}

// BroadcastListsOf converts lists (never nil).
func BroadcastListsOf(ls []broadcast.List) []BroadcastList {
	out := make([]BroadcastList, 0, len(ls))
	for _, l := range ls {
		out = append(out, BroadcastListOf(l))
	}
	return out
}

// BroadcastSentOf converts the outcome of a send: accepted copies, then
// refused ones.
func BroadcastSentOf(s broadcast.Sent) BroadcastSent {
	out := BroadcastSent{List: s.List, Copies: make([]BroadcastCopy, 0, len(s.Copies)+len(s.Failed))}
	for _, c := range s.Copies {
		out.Copies = append(out.Copies, BroadcastCopy{User: int64(c.User), Title: c.Title, Chat: string(c.Chat)})
	}
	for _, f := range s.Failed {
		out.Copies = append(out.Copies, BroadcastCopy{User: int64(f.User), Title: f.Title, Error: f.Error})
	}
	return out
}

func broadcastResult(l broadcast.List, err error) (any, error) {
	if err != nil {
		return nil, err
	}
	return BroadcastListOf(l), nil
}
