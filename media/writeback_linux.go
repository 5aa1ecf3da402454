package media

import (
	"os"
	"syscall"
)

// startWriteback asks the kernel to start writing [off, off+n) of f to
// disk now, without waiting (sync_file_range SYNC_FILE_RANGE_WRITE). A
// staged upload is fsynced once when it completes; starting write-back as
// the bytes arrive means that fsync finds almost nothing left to write,
// instead of stalling for the whole file's dirty pages (seconds for 1 GiB).
func startWriteback(f *os.File, off, n int64) {
	const syncFileRangeWrite = 0x2
	_ = syscall.SyncFileRange(int(f.Fd()), off, n, syncFileRangeWrite)
}
