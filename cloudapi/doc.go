// Package cloudapi is Parley's business API: HTTP + JSON in the shapes of
// the WhatsApp Business Cloud API, so existing Cloud API tooling works by
// changing its base URL to a Parley server.
//
// Routes (the /vN prefix, N any Graph API version such as v23.0, is
// optional, as on the Graph API; PNID is a business's phone-number id, the
// decimal user id of the business account; the WABA id is the same number):
//
//	POST   /vN/PNID/messages            send (text, media, location, contacts, interactive,
//	                                    template, reaction) or mark as read ({"status":"read"},
//	                                    optionally "typing_indicator":{"type":"text"})
//	POST   /vN/PNID/media               upload (multipart: messaging_product, file, type;
//	                                    messaging_product may be in the query string)
//	GET    /vN/MEDIA_ID                 media URL and metadata;  DELETE deletes it
//	GET    /vN/media_download/MEDIA_ID  the bytes (bearer token, as the URL says)
//	GET    /vN/PNID/message_templates   list;  POST creates;  DELETE ?name=…[&hsm_id|language]
//	GET    /vN/TEMPLATE_ID              one template;  POST edits it
//	GET    /vN/PNID                     the number: quality rating, messaging tier, throughput
//	POST   /vN/PNID/optins              record an opt-in (Parley extension); GET lists them
//	POST   /vN/PNID/quality/evaluate    re-evaluate quality and tier now (Parley extension)
//
// Every request carries "Authorization: Bearer TOKEN", a token of that
// number with the scope the route needs. Errors are Cloud API error objects
// ({"error":{"message","type","code","error_data":{…},"fbtrace_id"}}) with
// the Cloud API's codes where one exists (see errors.go and
// docs/business-api.md). A phone-number id that does not exist or is not
// the token's gets the Graph API's GraphMethodException (HTTP 400, code
// 100, error_subcode 33), the same for both.
//
// The owner side (device-authenticated, "Authorization: Parley
// DEVICE:SECRET" as for media) is under /business/v1/api/: enable the API
// by attaching a hosted endpoint (a link code of the owner's account),
// create, list and revoke tokens. Customers report a business at
// /business/v1/report. The operator side (a bearer operator token) approves
// or rejects templates and sets a number's tier, throughput and
// auto-approval under /business/v1/admin/.
//
// Compliance is enforced here, before anything is sent: the throughput
// limit per number (token bucket, 80 messages/s by default), the 24-hour
// customer-service window for anything but templates, opt-in for MARKETING
// templates, opt-out keywords (STOP …) honoured when they arrive and
// confirmed, the unique-recipient tier for templates (a rolling 24 hours) with promotion,
// and the quality rating from blocks and reports, which pauses MARKETING
// templates and lowers the tier when RED. Template-status and quality
// changes go to the business's webhook (parley.WebhookSink); every message
// step goes to insights (parley.InsightsRecorder).
//
// Messages go out through an Endpoint: the hosted endpoint (package
// hosted), a Parley client run by the server for the business, so chats
// stay end-to-end encrypted between the customer's devices and it.
package cloudapi
