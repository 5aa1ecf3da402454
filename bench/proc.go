package bench

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// procRSSKiB reads VmRSS of a process from /proc.
func procRSSKiB(pid int) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		line := s.Text()
		if strings.HasPrefix(line, "VmRSS:") {
			fields := strings.Fields(line)
			if len(fields) >= 2 {
				return strconv.ParseInt(fields[1], 10, 64)
			}
		}
	}
	return 0, fmt.Errorf("no VmRSS for pid %d", pid)
}

// procCPU returns the user+system CPU time a process has used.
func procCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// Fields after the command name, which is in parentheses and may contain spaces.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("bad /proc stat")
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("short /proc stat")
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	const clkTck = 100 // USER_HZ on Linux
	return time.Duration(utime+stime) * time.Second / clkTck, nil
}

// machineBusy returns total busy and total jiffies from /proc/stat, to
// report how much CPU other processes used during a run.
func machineBusy() (busy, total int64) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0
	}
	line := strings.SplitN(string(b), "\n", 2)[0]
	f := strings.Fields(line)
	for i, v := range f[1:] {
		n, _ := strconv.ParseInt(v, 10, 64)
		total += n
		if i != 3 && i != 4 { // idle, iowait
			busy += n
		}
	}
	return busy, total
}

// cpuMeter measures the server's and the whole machine's CPU use over an
// interval, so a run can report how busy other processes were.
type cpuMeter struct {
	pid       int
	start     time.Time
	serverCPU time.Duration
	selfCPU   time.Duration
	busy, tot int64
}

func startCPU(pid int) *cpuMeter {
	m := &cpuMeter{pid: pid, start: time.Now()}
	m.serverCPU, _ = procCPU(pid)
	m.selfCPU, _ = procCPU(os.Getpid())
	m.busy, m.tot = machineBusy()
	return m
}

// stop returns cores used by the server, by the bench client, and by
// everything else, averaged over the interval.
func (m *cpuMeter) stop() (server, client, other float64) {
	el := time.Since(m.start).Seconds()
	s, _ := procCPU(m.pid)
	c, _ := procCPU(os.Getpid())
	busy, _ := machineBusy()
	server = (s - m.serverCPU).Seconds() / el
	client = (c - m.selfCPU).Seconds() / el
	all := float64(busy-m.busy) / 100 / el
	other = all - server - client
	if other < 0 {
		other = 0
	}
	return round3(server), round3(client), round3(other)
}
