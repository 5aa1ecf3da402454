//go:build !unix

package sqlite_test

import "time"

func writtenBytes() int64 { return 0 }

func cpuTime() time.Duration { return 0 }
