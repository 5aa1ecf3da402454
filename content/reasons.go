package content

// Reasons of the errors (all parley.CodeInvalid) the content checks return.
const (
	// ReasonBusinessFieldPrefix starts the reason of a business field that
	// is missing, too long, not UTF-8 or not a valid media descriptor; the
	// field's JSON name follows ("business_order_id", "business_title", …).
	ReasonBusinessFieldPrefix = "business_"

	ReasonBusinessKind         = "business_kind"          // not exactly one part set, or not the body's kind
	ReasonBusinessBusiness     = "business_business"      // an order or product names no business
	ReasonBusinessButton       = "business_button"        // a template button's url, phone, payload or type too long
	ReasonBusinessButtons      = "business_buttons"       // too many or too few buttons
	ReasonBusinessDuplicateID  = "business_duplicate_id"  // two buttons or rows with one id
	ReasonBusinessItems        = "business_items"         // an order's items: count, quantity or price
	ReasonBusinessRows         = "business_rows"          // a list's rows: none in a section, or too many
	ReasonBusinessSectionTitle = "business_section_title" // a list section without a title among several
	ReasonBusinessSections     = "business_sections"      // a list's sections: count
	ReasonBusinessStatus       = "business_status"        // an unknown order status
	ReasonBusinessTitle        = "business_title"         // a button or row title too long
	ReasonBusinessTotal        = "business_total"         // an order's total is not the sum of its items
	ReasonBusinessType         = "business_type"          // an unknown interactive or reply type

	ReasonPollChoice       = "poll_choice"        // a vote for no option, or one option twice
	ReasonPollSingleChoice = "poll_single_choice" // several choices in a single-choice poll
	ReasonBadMessageID     = "bad_message_id"     // not "CHAT:SEQ"
)
