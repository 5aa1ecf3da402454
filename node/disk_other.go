//go:build !linux

package node

import (
	"context"

	"github.com/parleyhq/parley/insights"
)

// diskMetrics reports nothing outside Linux (see disk_linux.go).
func diskMetrics(string) insights.MetricSource {
	return func(context.Context) ([]insights.Metric, error) { return nil, nil }
}
