package bot

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"strings"
	"testing"
	"time"
)

// gridText writes a grid's values, one line per language and day: "-" for a past
// hour, else the count. It is what the heat map draws, as text a person can check.
func gridText(g CoverageGrid) string {
	var b strings.Builder
	fmt.Fprintf(&b, "start %s, %d days\n", g.Start.Format(time.RFC3339), g.Days)
	for l, lang := range g.Languages {
		for d := 0; d < g.Days; d++ {
			fmt.Fprintf(&b, "%-3s %s ", lang, g.Start.AddDate(0, 0, d).Format("Mon 02"))
			for h := 0; h < 24; h++ {
				n := g.Counts[l][d*24+h]
				if n == Past {
					b.WriteString(" -")
				} else {
					fmt.Fprintf(&b, " %d", n)
				}
			}
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// The heat map's data, golden: the scenario of TestCoverageGolden (three zones across
// the European DST change), so the Berlin shift moves an hour earlier in UTC.
func TestCoverageHeatMapGrid(t *testing.T) {
	now, shifts, langs := coverageScenario()
	g := Coverage(now, shifts, langs, 7)
	checkGolden(t, "testdata/coverage-grid.golden", "the heat map's grid", gridText(g))
}

// TestHeatMapShowsTheGrid decodes the picture and finds, in every cell, the colour of
// its value: gaps in the warning colour, past hours grey, counts on the scale.
func TestHeatMapShowsTheGrid(t *testing.T) {
	now, shifts, langs := coverageScenario()
	g := Coverage(now, shifts, langs, 7)
	data, w, h, err := HeatMap(g)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != w || b.Dy() != h {
		t.Fatalf("size %v, said %dx%d", b, w, h)
	}
	gaps, past, counted := 0, 0, 0
	for l := range g.Languages {
		for d := 0; d < g.Days; d++ {
			for hour := 0; hour < 24; hour++ {
				n := g.Counts[l][d*24+hour]
				r := heatCell(g, l, d, hour)
				if !r.In(img.Bounds()) {
					t.Fatalf("cell %d/%d/%d at %v is outside the picture %v", l, d, hour, r, img.Bounds())
				}
				// A corner of the cell: the count's digit is drawn in its middle.
				at := image.Pt(r.Min.X+1, r.Min.Y+1)
				want := heatGap // what each value must look like, said here, not by heatColour
				switch {
				case n == Past:
					want = heatPast
				case n > 0:
					want = heatScale[min(n, len(heatScale))-1]
				}
				if got := rgba(img, at); got != [4]uint8{want.R, want.G, want.B, want.A} {
					t.Fatalf("%s day %d hour %d (value %d): colour %v at %v, want %v", g.Languages[l], d, hour, n, got, at, want)
				}
				switch {
				case n == Past:
					past++
				case n == 0:
					gaps++
				default:
					counted++
				}
			}
		}
	}
	if gaps == 0 || past == 0 || counted == 0 {
		t.Fatalf("the scenario should have gaps (%d), past hours (%d) and covered ones (%d)", gaps, past, counted)
	}
	if heatColour(0) == heatColour(Past) || heatColour(0) == heatColour(1) {
		t.Error("a gap must look different from the past and from covered hours")
	}
}

func rgba(img image.Image, p image.Point) [4]uint8 {
	r, g, b, a := img.At(p.X, p.Y).RGBA()
	return [4]uint8{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8), uint8(a >> 8)}
}
