package bot

import (
	"sync"
	"time"
)

// zones keeps each time zone once loaded. time.LoadLocation reads and parses the zone
// file on every call, and !coverage asks whether every shift is on at each quarter
// hour of a week: with 2,000 volunteers that was over three million zone files read, over a
// minute for one command (docs/benchmarks.md, "Scale"). Only names that loaded are
// kept, and those are the few hundred IANA names, so the map stays small.
var zones sync.Map // name → *time.Location

func loadZone(name string) (*time.Location, error) {
	if loc, ok := zones.Load(name); ok {
		return loc.(*time.Location), nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, err
	}
	zones.Store(name, loc)
	return loc, nil
}
