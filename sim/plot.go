package sim

import (
	"image/color"
	"io"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

var (
	blue   = color.RGBA{R: 31, G: 119, B: 180, A: 255}
	red    = color.RGBA{R: 214, G: 39, B: 40, A: 255}
	green  = color.RGBA{R: 44, G: 160, B: 44, A: 255}
	orange = color.RGBA{R: 255, G: 127, B: 14, A: 255}
	grey   = color.RGBA{R: 120, G: 120, B: 120, A: 255}
)

// dayTicks marks every day at 00:00 UTC (labelled) and 12:00 (unlabelled).
type dayTicks struct{}

func (dayTicks) Ticks(lo, hi float64) []plot.Tick {
	var out []plot.Tick
	t := time.Unix(int64(lo), 0).UTC().Truncate(12 * time.Hour)
	for ; float64(t.Unix()) <= hi; t = t.Add(12 * time.Hour) {
		if float64(t.Unix()) < lo {
			continue
		}
		label := ""
		if t.Hour() == 0 {
			label = t.Format("Mon 02")
		}
		out = append(out, plot.Tick{Value: float64(t.Unix()), Label: label})
	}
	return out
}

// waitTicks label a log axis of minutes.
type waitTicks struct{}

func (waitTicks) Ticks(lo, hi float64) []plot.Tick {
	var out []plot.Tick
	for _, t := range []struct {
		v float64
		l string
	}{{0.1, "6s"}, {1, "1m"}, {5, "5m"}, {15, "15m"}, {60, "1h"}, {240, "4h"}, {1440, "1d"}, {4320, "3d"}} {
		if t.v >= lo && t.v <= hi {
			out = append(out, plot.Tick{Value: t.v, Label: t.l})
		}
	}
	return out
}

// WritePNG draws the week: the queues and who was on duty over time, and every
// request's wait for a human at its arrival time.
func (rep *Report) WritePNG(w io.Writer) error {
	top := plot.New()
	top.Title.Text = "Switchboard simulation: " + rep.Scenario
	top.Y.Label.Text = "requests / volunteers"
	top.X.Tick.Marker = dayTicks{}
	top.Legend.Top = true
	series := func(get func(Sample) int) plotter.XYs {
		xy := make(plotter.XYs, len(rep.Series))
		for i, s := range rep.Series {
			xy[i].X, xy[i].Y = float64(s.At.Unix()), float64(get(s))
		}
		return xy
	}
	for _, l := range []struct {
		name string
		c    color.Color
		get  func(Sample) int
	}{
		{"waiting for a volunteer", blue, func(s Sample) int { return s.Queue }},
		{"staff route, not acknowledged", red, func(s Sample) int { return s.StaffQueue }},
		{"volunteers on duty", green, func(s Sample) int { return s.OnDuty }},
		{"cases in hand", grey, func(s Sample) int { return s.InHand }},
	} {
		line, err := plotter.NewLine(series(l.get))
		if err != nil {
			return err
		}
		line.Color = l.c
		line.Width = vg.Points(1.2)
		top.Add(line)
		top.Legend.Add(l.name, line)
	}
	top.Y.Min = 0
	peak := 1
	for _, s := range rep.Series {
		peak = max(peak, s.Queue, s.StaffQueue, s.OnDuty, s.InHand)
	}
	top.Y.Max = float64(peak) * 1.35 // room for the legend above the lines

	bottom := plot.New()
	bottom.Y.Label.Text = "wait for a human (log)"
	bottom.X.Label.Text = "arrival (UTC)"
	bottom.X.Tick.Marker = dayTicks{}
	bottom.Y.Scale = plot.LogScale{}
	bottom.Y.Tick.Marker = waitTicks{}
	bottom.Legend.Top = true
	var vol, staffRoute, open plotter.XYs
	for _, c := range rep.Cases {
		var d time.Duration
		switch {
		case c.ToHuman != nil:
			d = c.ToHuman.D()
		case c.Ref != "":
			d = c.Waited.D()
		default:
			continue
		}
		pt := plotter.XY{X: float64(c.Arrival.Unix()), Y: max(d.Minutes(), 0.1)}
		switch {
		case c.ToHuman == nil:
			open = append(open, pt)
		case c.Route == "staff":
			staffRoute = append(staffRoute, pt)
		default:
			vol = append(vol, pt)
		}
	}
	for _, s := range []struct {
		name  string
		xy    plotter.XYs
		c     color.Color
		shape draw.GlyphDrawer
	}{
		{"volunteer route", vol, blue, draw.CircleGlyph{}},
		{"staff route", staffRoute, red, draw.TriangleGlyph{}},
		{"no human (wait so far)", open, orange, draw.CrossGlyph{}},
	} {
		if len(s.xy) == 0 {
			continue
		}
		sc, err := plotter.NewScatter(s.xy)
		if err != nil {
			return err
		}
		sc.GlyphStyle.Color, sc.GlyphStyle.Shape, sc.GlyphStyle.Radius = s.c, s.shape, vg.Points(2.5)
		bottom.Add(sc)
		bottom.Legend.Add(s.name, sc)
	}
	lo, hi := float64(rep.Start.Unix()), float64(rep.End.Unix())
	top.X.Min, top.X.Max, bottom.X.Min, bottom.X.Max = lo, hi, lo, hi
	if target := rep.Target.D(); target > 0 {
		ref, err := plotter.NewLine(plotter.XYs{{X: lo, Y: target.Minutes()}, {X: hi, Y: target.Minutes()}})
		if err != nil {
			return err
		}
		ref.Color, ref.Dashes = grey, []vg.Length{vg.Points(4), vg.Points(3)}
		bottom.Add(ref)
		bottom.Legend.Add("target ("+fd(rep.Target)+")", ref)
	}
	bottom.Y.Min = 0.1
	bottom.Y.Max = max(bottom.Y.Max*8, 60) // a log axis: room for the legend above the points
	img := vgimg.New(vg.Points(960), vg.Points(640))
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: 2, Cols: 1, PadTop: vg.Points(6), PadBottom: vg.Points(6), PadLeft: vg.Points(6), PadRight: vg.Points(12), PadY: vg.Points(12)}
	cs := plot.Align([][]*plot.Plot{{top}, {bottom}}, tiles, dc)
	top.Draw(cs[0][0])
	bottom.Draw(cs[1][0])
	_, err := vgimg.PngCanvas{Canvas: img}.WriteTo(w)
	return err
}
