#!/usr/bin/env bash
# The one test command (README "Test"): vet, then every test with the race
# detector. Tests that need PostgreSQL or an S3 server run when
# PARLEY_TEST_POSTGRES / PARLEY_TEST_S3 are set (scripts/postgres-start.sh and
# scripts/s3-start.sh print them); otherwise they skip and say why.
set -euo pipefail
cd "$(dirname "$0")/.."
go vet ./...
go test -race -timeout 30m "$@" $(go list ./... | grep -v '/mls$')
# The MLS package runs in local-directory mode so that its test-vector
# summary lines ("mls vectors: FILE ran=N skipped=M") are printed.
(cd mls && go test -race -timeout 30m "$@")
