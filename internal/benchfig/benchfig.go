// Package benchfig holds what the benchmark commands (cmd/loadtest, cmd/irclatency,
// cmd/benchscale) compute and read alike: percentiles of latencies, a process's
// memory from /proc, and the machine's load, so that their figures are taken the
// same way and can be set side by side in docs/benchmarks.md.
package benchfig

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Ms is d in milliseconds, to the microsecond.
func Ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// Sorted is a sorted copy of d.
func Sorted(d []time.Duration) []time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s
}

// Percentile is the nearest-rank p-quantile (0.5, 0.99) of sorted, in milliseconds.
func Percentile(sorted []time.Duration, p float64) float64 {
	i := int(p*float64(len(sorted))+0.5) - 1
	return Ms(sorted[max(0, min(i, len(sorted)-1))])
}

// ProcKiB reads a field of a process's /proc status (VmRSS, VmHWM) in KiB; pid 0
// is this process. It is 0 when the process or the field is gone.
func ProcKiB(pid int, field string) int {
	path := "/proc/self/status"
	if pid != 0 {
		path = fmt.Sprintf("/proc/%d/status", pid)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if strings.HasPrefix(line, field+":") {
			kb, _ := strconv.Atoi(strings.Fields(line)[1])
			return kb
		}
	}
	return 0
}

// LoadAvg is the machine's 1, 5 and 15 minute load averages, as uptime shows them.
func LoadAvg() string {
	raw, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(raw))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}
