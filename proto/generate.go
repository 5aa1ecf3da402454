// Package proto holds the protobuf schema of Parley's wire protocol
// (parley.proto); the generated Go code is in proto/parleypb. Regenerate it
// with `go generate ./proto` (needs buf and protoc-gen-go, see
// docs/protocol.md).
package proto

//go:generate buf generate
