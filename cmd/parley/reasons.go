package main

// Reasons of the errors the CLI itself returns (the client core's and the
// server's have their own constants).
const (
	ReasonNoPreview = "no_preview" // CodeNotFound: the product has no photo preview to save
	ReasonBadPath   = "bad_path"   // CodeInvalid: the output path cannot be written
)
