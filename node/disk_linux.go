package node

import (
	"context"
	"syscall"

	"github.com/parleyhq/parley/insights"
)

// diskMetrics reports the free and total bytes of the file system holding
// dir (the data directory), read with statfs at each scrape. Free counts
// the blocks an unprivileged process may use (f_bavail), which is what the
// server can still write. Linux only; on other systems nothing is reported.
func diskMetrics(dir string) insights.MetricSource {
	return func(context.Context) ([]insights.Metric, error) {
		var st syscall.Statfs_t
		if err := syscall.Statfs(dir, &st); err != nil {
			return nil, nil // the directory is gone or unreadable: report no sample rather than fail the scrape
		}
		bs := float64(st.Bsize)
		return []insights.Metric{
			{Name: "parley_data_disk_free_bytes", Help: "Bytes free for the server on the data directory's file system.", Type: "gauge", Value: float64(st.Bavail) * bs},
			{Name: "parley_data_disk_size_bytes", Help: "Size in bytes of the data directory's file system.", Type: "gauge", Value: float64(st.Blocks) * bs},
		}, nil
	}
}
