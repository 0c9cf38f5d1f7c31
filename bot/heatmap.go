package bot

import (
	"bytes"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"strconv"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// The coverage heat map: for each language a block of days (rows) by UTC hours
// (columns), each cell coloured by how many volunteers are on shift, with the count
// written in it. Gaps are in a warning orange, which stays apart from the blue scale
// for colour-blind readers too; hours already past are light grey. Drawn with the
// standard image packages and x/image's 7×13 bitmap font (ASCII labels only: language
// codes, day names as in the table, hours), so it needs no font files.

const (
	heatCellW    = 18
	heatCellH    = 15
	heatLeft     = 56 // day labels
	heatTop      = 18 // hour labels
	heatBlockGap = 10
	heatLabelH   = 16 // a language's code above its block
	heatLegendH  = 26
	heatRight    = 8
)

var (
	heatGap    = color.RGBA{0xD9, 0x48, 0x0F, 0xFF}
	heatPast   = color.RGBA{0xE9, 0xEC, 0xEF, 0xFF}
	heatInk    = color.RGBA{0x21, 0x25, 0x29, 0xFF}
	heatPaper  = color.RGBA{0xFF, 0xFF, 0xFF, 0xFF}
	heatScale  = []color.RGBA{{0xC6, 0xDB, 0xEF, 0xFF}, {0x9E, 0xCA, 0xE1, 0xFF}, {0x6B, 0xAE, 0xD6, 0xFF}, {0x31, 0x82, 0xBD, 0xFF}, {0x08, 0x51, 0x9C, 0xFF}}
	heatLabels = []string{"0", "1", "2", "3", "4", "5+"}
	// heatPalette is every colour of the picture (the font is one bit deep), paper
	// first: a byte a pixel encodes in a third of the time of four.
	heatPalette = append(color.Palette{heatPaper, heatInk, heatGap, heatPast}, toColors(heatScale)...)
)

func toColors(cs []color.RGBA) []color.Color {
	out := make([]color.Color, len(cs))
	for i, c := range cs {
		out[i] = c
	}
	return out
}

// heatColour is a cell's colour: the gap colour, the past's grey, or the scale's step
// (five volunteers and more share the darkest).
func heatColour(n int) color.RGBA {
	switch {
	case n == Past:
		return heatPast
	case n <= 0:
		return heatGap
	case n > len(heatScale):
		return heatScale[len(heatScale)-1]
	}
	return heatScale[n-1]
}

// heatCell is where the cell of language l, day d, hour h is drawn, inside its
// one-pixel white border.
func heatCell(g CoverageGrid, l, d, h int) image.Rectangle {
	x := heatLeft + h*heatCellW
	y := heatTop + l*(heatLabelH+g.Days*heatCellH+heatBlockGap) + heatLabelH + d*heatCellH
	return image.Rect(x+1, y+1, x+heatCellW, y+heatCellH)
}

func heatSize(g CoverageGrid) image.Point {
	return image.Pt(heatLeft+24*heatCellW+heatRight,
		heatTop+len(g.Languages)*(heatLabelH+g.Days*heatCellH+heatBlockGap)+heatLegendH)
}

// HeatMap draws the grid as a PNG and gives its width and height.
func HeatMap(g CoverageGrid) (pngData []byte, width, height int, err error) {
	size := heatSize(g)
	img := image.NewPaletted(image.Rectangle{Max: size}, heatPalette) // all paper
	text(img, 4, heatTop-5, "UTC", heatInk)
	for h := 0; h < 24; h += 3 {
		text(img, heatLeft+h*heatCellW+2, heatTop-5, strconv.Itoa(h), heatInk)
	}
	for l, lang := range g.Languages {
		top := heatCell(g, l, 0, 0).Min.Y - 1
		text(img, 4, top-4, lang, heatInk)
		for d := 0; d < g.Days; d++ {
			r := heatCell(g, l, d, 0)
			text(img, 4, r.Max.Y-3, g.Start.AddDate(0, 0, d).Format("Mon 02"), heatInk)
			for h := 0; h < 24; h++ {
				n := g.Counts[l][d*24+h]
				r := heatCell(g, l, d, h)
				c := heatColour(n)
				draw.Draw(img, r, image.NewUniform(c), image.Point{}, draw.Src)
				if n > 0 {
					ink := heatInk
					if n >= 3 {
						ink = heatPaper
					}
					label := strconv.Itoa(n)
					if n >= 10 {
						label = "+"
					}
					text(img, r.Min.X+(r.Dx()-7*len(label))/2, r.Max.Y-3, label, ink)
				}
			}
		}
	}
	// The legend: a gap, then one to five and more.
	y := size.Y - heatLegendH + 6
	for i, label := range heatLabels {
		x := heatLeft + i*3*heatCellW
		draw.Draw(img, image.Rect(x, y, x+heatCellW-1, y+heatCellH-1), image.NewUniform(heatColour(i)), image.Point{}, draw.Src)
		text(img, x+heatCellW+3, y+heatCellH-4, label, heatInk)
	}
	var buf bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&buf, img); err != nil {
		return nil, 0, 0, err
	}
	return buf.Bytes(), size.X, size.Y, nil
}

// text writes ASCII at a baseline.
func text(img draw.Image, x, y int, s string, c color.Color) {
	d := font.Drawer{Dst: img, Src: image.NewUniform(c), Face: basicfont.Face7x13, Dot: fixed.P(x, y)}
	d.DrawString(s)
}
