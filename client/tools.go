package client

import "github.com/parleyhq/parley/client/chattools"

// Tools returns the device-local chat tools (package chattools): stars,
// delete for me, message info, mute for a while, mark unread.
func (c *Client) Tools() *chattools.Tools { return chattools.New(groupsCore{c}, c.clock.Now) }
