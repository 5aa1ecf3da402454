package main

import "github.com/parleyhq/parley/cmd/internal/cmdline"

const helpHead = `parley — end-to-end encrypted messaging

usage: parley [--json] [--profile DIR] [--timeout D] [-v] COMMAND [flags] [args]

global flags (before or after the command; after a "--" everything is an argument):
  --json          print one JSON object per line (stable snake_case keys);
                  errors go to stderr as {"error":CODE,"reason":…,"message":…}
  --profile DIR   the device profile to use (default $PARLEY_PROFILE or ~/.parley)
  --timeout D     give up on a client command after D (default 30s)
  -v              log connection activity to stderr
`

const helpExitCodes = `
exit codes:
  0  ok                  7  conflict (e.g. username taken)
  1  internal error      8  rate limited
  2  usage               9  too large
  3  invalid input       10 blocked by the recipient
  4  unauthenticated     11 expired (code or link)
  5  forbidden           12 server unavailable (or timed out)
  6  not found
`

// helpText is `parley help`: the global flags, the commands table and the
// exit codes.
func helpText() string { return helpHead + cmdline.Help(commands) + helpExitCodes }
