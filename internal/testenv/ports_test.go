package testenv

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
)

// A reserved port is kept from every other test binary (they honour the lock
// file, here opened a second time as another process would) and from the
// kernel's own choices, until it is released.
func TestReservedPortIsKept(t *testing.T) {
	t.Parallel()
	port, err := reservePort()
	if err != nil {
		t.Fatal(err)
	}
	defer releasePorts(port)
	if data, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		var lo, hi int
		if _, err := fmt.Sscan(string(data), &lo, &hi); err == nil && lo > 3024 && port >= lo && port <= hi {
			t.Errorf("port %d is in the kernel's ephemeral range %d-%d", port, lo, hi)
		}
	}
	other := func() error {
		f, err := os.Open(filepath.Join(os.TempDir(), "switchboard-ports", strconv.Itoa(port)))
		if err != nil {
			return err
		}
		defer f.Close()
		return syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	}
	if err := other(); err == nil {
		t.Fatal("another process could reserve the same port")
	}
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		t.Fatalf("the reserved port does not bind: %v", err)
	}
	l.Close()
	releasePorts(port)
	if err := other(); err != nil {
		t.Fatalf("the released port is still locked: %v", err)
	}
}

// InspIRCd starts even when some of its ports do not bind; a port taken by
// someone else must fail the start (and so get fresh ports) instead of leaving a
// network whose services never link, or whose clients reach a stranger.
func TestIRCPortTakenFailsStart(t *testing.T) {
	t.Parallel()
	n := NewIRCNetwork(t)
	if err := n.Down(); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(n.linkPort)))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := n.Up(); !errors.Is(err, errPortInUse) {
		t.Fatalf("Up with the link port taken: %v, want errPortInUse", err)
	}
}
