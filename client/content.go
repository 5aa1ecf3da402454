package client

import "github.com/parleyhq/parley/content"

// The end-to-end content format lives in package content; these aliases
// keep the client's API (CLI, browser bridge, bots, hosted endpoints)
// unchanged.

type (
	MessageRecord      = content.MessageRecord
	Status             = content.Status
	PollSpec           = content.PollSpec
	Extras             = content.Extras
	PollResult         = content.PollResult
	BusinessContent    = content.BusinessContent
	ProductMessage     = content.ProductMessage
	OrderItem          = content.OrderItem
	OrderMessage       = content.OrderMessage
	OrderStatusMessage = content.OrderStatusMessage
	InteractiveMessage = content.InteractiveMessage
	ReplyButton        = content.ReplyButton
	ListSection        = content.ListSection
	ListRow            = content.ListRow
	InteractiveReply   = content.InteractiveReply
	TemplateMessage    = content.TemplateMessage
	TemplateButton     = content.TemplateButton
)

// Statuses, kinds, windows and limits: see package content.
const (
	StatusPending   = content.StatusPending
	StatusSent      = content.StatusSent
	StatusDelivered = content.StatusDelivered
	StatusRead      = content.StatusRead
	StatusReceived  = content.StatusReceived
	StatusFailed    = content.StatusFailed

	KindText             = content.KindText
	KindUndecryptable    = content.KindUndecryptable
	KindUnsupported      = content.KindUnsupported
	KindImage            = content.KindImage
	KindVideo            = content.KindVideo
	KindVoice            = content.KindVoice
	KindDocument         = content.KindDocument
	KindLocation         = content.KindLocation
	KindContact          = content.KindContact
	KindReaction         = content.KindReaction
	KindEdit             = content.KindEdit
	KindDelete           = content.KindDelete
	KindPoll             = content.KindPoll
	KindVote             = content.KindVote
	KindDeleted          = content.KindDeleted
	KindProduct          = content.KindProduct
	KindOrder            = content.KindOrder
	KindOrderStatus      = content.KindOrderStatus
	KindInteractive      = content.KindInteractive
	KindInteractiveReply = content.KindInteractiveReply
	KindTemplate         = content.KindTemplate

	OrderPending   = content.OrderPending
	OrderPaid      = content.OrderPaid
	OrderShipped   = content.OrderShipped
	OrderCompleted = content.OrderCompleted
	OrderCancelled = content.OrderCancelled

	EditWindow      = content.EditWindow
	DeleteWindow    = content.DeleteWindow
	MaxPollOptions  = content.MaxPollOptions
	MaxReplyButtons = content.MaxReplyButtons
	MaxListSections = content.MaxListSections
	MaxListRows     = content.MaxListRows
	MaxOrderItems   = content.MaxOrderItems
)

// Functions of the content format: see package content.
var (
	Hashtags        = content.Hashtags
	IsBusinessKind  = content.IsBusinessKind
	FormatMessageID = content.FormatMessageID
	ParseMessageID  = content.ParseMessageID
)
