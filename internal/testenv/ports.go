package testenv

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// Our servers (InspIRCd, Dendrite, Mailpit) cannot take a listening socket from
// us, so a port has to be chosen before they bind it, and a port that was merely
// free a moment ago (bind to :0, close, hand over) can be taken in between: by
// another test binary doing the same (go test runs packages in parallel), or by
// the kernel for someone's outgoing connection. So a port is reserved instead:
//
//   - it is chosen below the kernel's ephemeral range, where neither Listen on :0
//     nor an outgoing connection ever gets one;
//   - it is ours while this process holds an exclusive lock on a file named after
//     it, which every test binary honours, and which the kernel drops if we die;
//   - it must bind right now, which rules out a foreign server that lives there.
//
// What is left (a foreign program binding that very port in the moment before our
// server does) is caught by the servers' start, which fails on a bind error and
// is retried on fresh ports.

var reserved = struct {
	sync.Mutex
	locks map[int]*os.File // held open: closing the file would drop the lock
}{locks: map[int]*os.File{}}

// reservePort returns a loopback TCP port reserved for this process until
// releasePorts.
func reservePort() (int, error) {
	lo, hi := reservableRange()
	dir := filepath.Join(os.TempDir(), "switchboard-ports")
	if err := os.MkdirAll(dir, 0o1777); err != nil {
		return 0, err
	}
	for range 500 {
		port := lo + rand.IntN(hi-lo)
		reserved.Lock()
		_, mine := reserved.locks[port]
		reserved.Unlock()
		if mine {
			continue
		}
		f, err := os.OpenFile(filepath.Join(dir, strconv.Itoa(port)), os.O_CREATE|os.O_RDONLY, 0o666)
		if err != nil {
			return 0, fmt.Errorf("testenv: reserve a port: %w", err)
		}
		if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) != nil {
			f.Close() // another test binary's
			continue
		}
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			f.Close() // a foreign server's
			continue
		}
		l.Close()
		reserved.Lock()
		reserved.locks[port] = f
		reserved.Unlock()
		return port, nil
	}
	return 0, errors.New("testenv: no port left to reserve")
}

// releasePorts gives reserved ports back; zero and unknown ports are ignored.
func releasePorts(ports ...int) {
	reserved.Lock()
	defer reserved.Unlock()
	for _, p := range ports {
		if f := reserved.locks[p]; f != nil {
			f.Close()
			delete(reserved.locks, p)
		}
	}
}

// reservableRange is where ports are reserved: the 12000 ports below the
// kernel's ephemeral range (Linux's default 32768–60999 gives 20768–32767), or
// above it when there is no room below.
func reservableRange() (lo, hi int) {
	elo, ehi := 32768, 60999
	if data, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(data)); len(f) == 2 {
			a, err1 := strconv.Atoi(f[0])
			b, err2 := strconv.Atoi(f[1])
			if err1 == nil && err2 == nil && a <= b {
				elo, ehi = a, b
			}
		}
	}
	switch {
	case elo-1024 >= 2000:
		return max(1024, elo-12000), elo
	case 65535-ehi >= 2000:
		return ehi + 1, 65536
	default:
		// No room outside it: the lock still keeps other test binaries off.
		return elo, ehi + 1
	}
}
