// Package hosted runs the hosted business endpoints: for every business
// number used through the business API, a Parley client (package client,
// the same core as the CLI and the browser) run by the server on the
// business's behalf. It is one linked device of the business account
// ("Business API (hosted)"), so customers' chats stay end-to-end encrypted
// between the customer's devices and the business's devices, this one
// included, and the business can use the API and its other devices on the
// same number at once.
//
// Trust model: the operator of the server can read what the hosted
// endpoint reads. Its device secret, MLS signature key, KeyPackage private
// keys and MLS group state are sealed at rest with AES-256-GCM under the
// operator's key (client.OpenSealedSQLiteStore), and so are the files
// uploaded through the API (chunked AES-256-GCM). The server's other
// components stay crypto-blind. The business profile shows customers that
// the business uses a hosted endpoint (parley.BusinessProfile.Hosted).
//
// State: with Config.State (what the server wires) an endpoint's client
// store, handled marks and sent watermark are sealed records in the
// server's store (statekv.go), so that in a cluster the node that takes
// over an endpoint's lease continues it; the client store is the
// localstore KV store, which keeps the endpoint's whole state (its chats'
// messages included) in memory while it runs. Under the manager's
// directory, one folder per business user id holds media/ (sealed files
// kept for the API) and temporary files; an endpoint attached before the
// state moved to the store keeps its client.db (the sealed SQLite client
// store) and handled/watermark files there and runs from them.
package hosted
