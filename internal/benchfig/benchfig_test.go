package benchfig

import (
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	var d []time.Duration
	for i := 100; i >= 1; i-- { // unsorted on purpose: Sorted must sort a copy
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	s := Sorted(d)
	if d[0] != 100*time.Millisecond {
		t.Fatal("Sorted changed its argument")
	}
	for _, c := range []struct {
		p    float64
		want float64
	}{{0.5, 50}, {0.99, 99}, {1, 100}, {0, 1}} {
		if got := Percentile(s, c.p); got != c.want {
			t.Errorf("p%v = %v ms, want %v", c.p*100, got, c.want)
		}
	}
}

func TestProcKiB(t *testing.T) {
	if ProcKiB(0, "VmRSS") <= 0 {
		t.Error("this process has no resident memory")
	}
	if ProcKiB(0, "NoSuchField") != 0 {
		t.Error("a missing field should read 0")
	}
}
