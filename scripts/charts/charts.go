package main

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

func init() {
	// gonum/plot embeds the Liberation fonts, which have every Turkish
	// letter; the sans-serif one reads better at small sizes.
	plot.DefaultFont.Variant = "Sans"
}

// Chart geometry. The image size depends only on how many bars there
// are, so the same results give the same picture.
const (
	chartWidth = 20 * vg.Centimeter
	dpi        = 144
	barSpace   = 0.55 * vg.Centimeter // height per bar
	groupSpace = 0.35 * vg.Centimeter // extra height per category
	frameSpace = 3.2 * vg.Centimeter  // title, value axis and margins
	legendRow  = 0.6 * vg.Centimeter
	groupFill  = 0.8 // share of a category's band that its bars fill
	labelRoom  = 0.3 // share of the value axis kept free for bar labels
)

// palette holds the series colors, in series order (colorblind-safe
// Okabe-Ito colors).
var palette = []color.Color{
	color.RGBA{0, 114, 178, 255},   // blue
	color.RGBA{230, 159, 0, 255},   // orange
	color.RGBA{0, 158, 115, 255},   // green
	color.RGBA{204, 121, 167, 255}, // purple
	color.RGBA{86, 180, 233, 255},  // sky blue
	color.RGBA{213, 94, 0, 255},    // vermillion
	color.RGBA{240, 228, 66, 255},  // yellow
}

// barChart is a horizontal grouped bar chart: categories run down the
// vertical axis, and each category has one bar per series.
type barChart struct {
	title         string
	valueLabel    string
	categoryLabel string
	categories    []string    // top to bottom
	series        []string    // legend entries; none for a single unnamed series
	values        [][]float64 // [series][category]; NaN: no bar
	labels        [][]string  // text after each bar
	log           bool        // logarithmic value axis
}

// png draws the chart.
func (bc *barChart) png() ([]byte, error) {
	nbars := 0
	lo, hi := math.Inf(1), 0.0
	for s := range bc.values {
		for _, v := range bc.values[s] {
			if math.IsNaN(v) {
				continue
			}
			nbars++
			hi = max(hi, v)
			if v > 0 {
				lo = min(lo, v)
			}
		}
	}
	if nbars == 0 {
		return nil, fmt.Errorf("%s: no values", bc.title)
	}

	p := plot.New()
	p.Title.Text = bc.title
	p.Title.TextStyle.Font.Size = vg.Points(13)
	p.Title.Padding = vg.Points(8)
	p.X.Label.Text = bc.valueLabel
	p.Y.Label.Text = bc.categoryLabel
	p.Y.Min, p.Y.Max = -0.5, float64(len(bc.categories))-0.5
	p.Y.Tick.Marker = categoryTicks(bc.categories)
	p.Y.Tick.Length = 0
	p.Y.Padding = 0
	p.X.Padding = 0
	if bc.log {
		if math.IsInf(lo, 1) {
			lo = 1
		}
		a := math.Floor(math.Log10(min(lo, 1)))
		m := math.Log10(max(hi, math.Pow(10, a+1)))
		p.X.Min = math.Pow(10, a)
		p.X.Max = math.Pow(10, (m-labelRoom*a)/(1-labelRoom))
		p.X.Scale = clampedLog{}
		p.X.Tick.Marker = logTicks{}
	} else {
		p.X.Min = 0
		p.X.Max = max(hi, 1e-9) / (1 - labelRoom)
		p.X.Tick.Marker = turkishTicks{}
	}

	grid := plotter.NewGrid()
	grid.Horizontal.Color = nil
	grid.Vertical.Color = color.Gray{Y: 220}
	p.Add(grid)
	var drawn []*bars
	for s := range bc.values {
		b := &bars{
			values: bc.values[s], labels: bc.labels[s],
			color: palette[s%len(palette)], index: s, count: len(bc.values),
		}
		drawn = append(drawn, b)
		p.Add(b)
	}

	legendH := vg.Length(0)
	if len(bc.series) > 0 {
		legendH = legendRow*vg.Length(len(bc.series)) + 0.3*vg.Centimeter
	}
	h := frameSpace + barSpace*vg.Length(nbars) + groupSpace*vg.Length(len(bc.categories)) + legendH
	img := vgimg.NewWith(vgimg.UseWH(chartWidth, h), vgimg.UseDPI(dpi), vgimg.UseBackgroundColor(color.White))
	dc := draw.New(img)
	p.Draw(draw.Crop(dc, 0, -0.3*vg.Centimeter, legendH, 0))
	if legendH > 0 {
		l := plot.NewLegend()
		l.Top, l.Left = true, true
		l.TextStyle.Font.Size = vg.Points(10)
		l.ThumbnailWidth = vg.Points(14)
		l.Padding = vg.Points(3)
		for s, name := range bc.series {
			l.Add(name, drawn[s])
		}
		l.Draw(draw.Crop(dc, 1*vg.Centimeter, 0, 0.15*vg.Centimeter, -(h - legendH)))
	}
	var buf bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// bars is one series of a barChart. Bar i stands in category i (counted
// from the top), shifted by the series' place among all series.
type bars struct {
	values       []float64
	labels       []string
	color        color.Color
	index, count int
}

// span returns the vertical center and half height of bar i, in data
// units of the category axis.
func (b *bars) span(i int) (center, half float64) {
	w := groupFill / float64(b.count)
	top := float64(len(b.values)-1-i) + groupFill/2
	return top - w*(float64(b.index)+0.5), w / 2 * 0.88
}

// Plot draws the bars and their labels.
func (b *bars) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	sty := p.X.Tick.Label
	sty.Font.Size = vg.Points(9)
	sty.XAlign = draw.XLeft
	sty.YAlign = draw.YCenter
	for i, v := range b.values {
		if math.IsNaN(v) {
			continue
		}
		center, half := b.span(i)
		x0, x1 := trX(p.X.Min), trX(max(v, p.X.Min))
		y0, y1 := trY(center-half), trY(center+half)
		c.FillPolygon(b.color, []vg.Point{{X: x0, Y: y0}, {X: x1, Y: y0}, {X: x1, Y: y1}, {X: x0, Y: y1}})
		if i < len(b.labels) && b.labels[i] != "" {
			c.FillText(sty, vg.Point{X: x1 + vg.Points(3), Y: trY(center)}, b.labels[i])
		}
	}
}

// Thumbnail draws the series' legend mark.
func (b *bars) Thumbnail(c *draw.Canvas) {
	r := c.Rectangle
	c.FillPolygon(b.color, []vg.Point{r.Min, {X: r.Max.X, Y: r.Min.Y}, r.Max, {X: r.Min.X, Y: r.Max.Y}})
}

// categoryTicks puts the category names on the vertical axis, the first
// one at the top.
type categoryTicks []string

// Ticks implements plot.Ticker.
func (ct categoryTicks) Ticks(_, _ float64) []plot.Tick {
	var t []plot.Tick
	for i, name := range ct {
		t = append(t, plot.Tick{Value: float64(len(ct) - 1 - i), Label: name})
	}
	return t
}

// clampedLog is a logarithmic scale on which values at or below the
// axis minimum (zero included) sit on the axis, so bars can start there.
// gonum's LogScale panics on zero.
type clampedLog struct{}

// Normalize implements plot.Normalizer.
func (clampedLog) Normalize(lo, hi, x float64) float64 {
	x = max(x, lo)
	return (math.Log(x) - math.Log(lo)) / (math.Log(hi) - math.Log(lo))
}

// logTicks marks each power of ten with a label and 2..9 times it
// without one.
type logTicks struct{}

// Ticks implements plot.Ticker.
func (logTicks) Ticks(lo, hi float64) []plot.Tick {
	var t []plot.Tick
	for e := math.Floor(math.Log10(lo)); e <= math.Ceil(math.Log10(hi)); e++ {
		p := math.Pow(10, e)
		if p >= lo*0.999 && p <= hi*1.001 {
			t = append(t, plot.Tick{Value: p, Label: num(p, max(0, int(-e)))})
		}
		for k := 2.0; k < 10; k++ {
			if v := k * p; v > lo && v < hi {
				t = append(t, plot.Tick{Value: v})
			}
		}
	}
	return t
}

// turkishTicks are gonum's default ticks, labeled with a decimal comma.
type turkishTicks struct{}

// Ticks implements plot.Ticker.
func (turkishTicks) Ticks(lo, hi float64) []plot.Tick {
	t := plot.DefaultTicks{}.Ticks(lo, hi)
	for i := range t {
		if t[i].Label == "" {
			continue
		}
		dec := 0
		if _, frac, ok := strings.Cut(t[i].Label, "."); ok {
			dec = len(strings.TrimRight(frac, "0"))
		}
		t[i].Label = num(t[i].Value, dec)
	}
	return t
}

// chartFile is one rendered output.
type chartFile struct {
	name string
	data []byte
}

// Names of the charts.
const (
	p99Chart    = "p99.png"
	memChart    = "idle-memory.png"
	mediumChart = "ws-medium-latency.png"
	lossChart   = "loss.png"
	tableFile   = "results.md"
	mediumShape = "ws-medium"
)

// outputNames are every file the command may write, in the order it
// writes them.
var outputNames = []string{p99Chart, memChart, mediumChart, lossChart, tableFile}

// charts builds the charts that d has data for, with their alt texts for
// the table file.
func charts(d *data) ([]*barChart, []string) {
	var out []*barChart
	var names []string
	add := func(name string, bc *barChart) {
		out = append(out, bc)
		names = append(names, name)
	}

	// (a) p99 of every server for every shape.
	p99 := &barChart{
		title:         "Gecikme p99: sunucu ve yüke göre",
		valueLabel:    "Gecikme p99 (ms, logaritmik ölçek)",
		categoryLabel: "yük",
		series:        d.servers,
		log:           true,
	}
	for _, shape := range d.shapes {
		p99.categories = append(p99.categories, shapeCaption(d, shape))
	}
	p99.values, p99.labels = seriesOf(d, d.servers, d.shapes, func(g *group) (float64, string) {
		return g.median.P99, latencyLabel(g.median)
	})
	add(p99Chart, p99)

	// (b) memory per idle connection.
	if servers := d.serversOf(idleShape); len(servers) > 0 {
		first := d.get(idleShape, servers[0]).median
		mem := &barChart{
			title:         fmt.Sprintf("Boşta bağlantı başına bellek (%s istemci)", num(float64(first.Clients), 0)),
			valueLabel:    "Boşta bağlantı başına bellek (KB)",
			categoryLabel: "sunucu",
		}
		row := make([]float64, len(servers))
		labels := make([]string, len(servers))
		for i, s := range servers {
			m := d.get(idleShape, s).median
			mem.categories = append(mem.categories, wrapLabel(s))
			row[i], labels[i] = m.MemPerConnKB, kb(m.MemPerConnKB)
			if m.MemPerConnKB <= 0 {
				labels[i] = "ölçülmedi"
			}
		}
		mem.values, mem.labels = [][]float64{row}, [][]string{labels}
		add(memChart, mem)
	}

	// (c) percentiles for ws-medium.
	if servers := d.serversOf(mediumShape); len(servers) > 0 {
		first := d.get(mediumShape, servers[0]).median
		pc := &barChart{
			title: fmt.Sprintf("Gecikme yüzdelikleri: %s (%s istemci, %s gönderen, saniyede %s mesaj)",
				mediumShape, num(float64(first.Clients), 0), num(float64(first.Senders), 0), num(first.Rate, 0)),
			valueLabel:    "Gecikme (ms, logaritmik ölçek)",
			categoryLabel: "sunucu",
			series:        []string{"p50", "p90", "p99"},
			log:           true,
		}
		pick := []func(Result) float64{
			func(r Result) float64 { return r.P50 },
			func(r Result) float64 { return r.P90 },
			func(r Result) float64 { return r.P99 },
		}
		for _, s := range servers {
			pc.categories = append(pc.categories, wrapLabel(s))
		}
		for _, f := range pick {
			row := make([]float64, len(servers))
			labels := make([]string, len(servers))
			for i, s := range servers {
				row[i] = f(d.get(mediumShape, s).median)
				labels[i] = ms(row[i])
			}
			pc.values = append(pc.values, row)
			pc.labels = append(pc.labels, labels)
		}
		add(mediumChart, pc)
	}

	// (d) loss, for the shapes where some server lost messages.
	var lossy []string
	for _, shape := range d.shapes {
		for _, s := range d.serversOf(shape) {
			if m := d.get(shape, s).median; m.Lost > 0 || m.LossPercent > 0 || m.Disconnects > 0 {
				lossy = append(lossy, shape)
				break
			}
		}
	}
	if len(lossy) > 0 {
		loss := &barChart{
			title:         "Kayıp: kayıp olan yüklerde sunucuya göre",
			valueLabel:    "Kayıp (%)",
			categoryLabel: "yük",
			series:        d.servers,
		}
		for _, shape := range lossy {
			loss.categories = append(loss.categories, shapeCaption(d, shape))
		}
		loss.values, loss.labels = seriesOf(d, d.servers, lossy, func(g *group) (float64, string) {
			l := pct(g.median.LossPercent)
			if g.median.Disconnects > 0 {
				l += fmt.Sprintf(" · %s koptu", num(float64(g.median.Disconnects), 0))
			}
			return g.median.LossPercent, l
		})
		add(lossChart, loss)
	}
	return out, names
}

// seriesOf makes one series per server over the shapes, NaN where a
// server did not run a shape.
func seriesOf(d *data, servers, shapes []string, f func(*group) (float64, string)) ([][]float64, [][]string) {
	values := make([][]float64, len(servers))
	labels := make([][]string, len(servers))
	for s, server := range servers {
		values[s] = make([]float64, len(shapes))
		labels[s] = make([]string, len(shapes))
		for i, shape := range shapes {
			g := d.get(shape, server)
			if g == nil {
				values[s][i] = math.NaN()
				continue
			}
			values[s][i], labels[s][i] = f(g)
		}
	}
	return values, labels
}

// latencyLabel is a p99 bar's label: the latency, and what went wrong.
func latencyLabel(r Result) string {
	if r.Connected == 0 {
		return "bağlanılamadı"
	}
	if r.Delivered == 0 {
		return "teslim yok"
	}
	l := ms(r.P99)
	if r.Lost > 0 {
		l += " · kayıp " + pct(r.LossPercent)
	}
	if r.Disconnects > 0 {
		l += fmt.Sprintf(" · %s koptu", num(float64(r.Disconnects), 0))
	}
	if r.ConnectFailures > 0 {
		l += fmt.Sprintf(" · %s bağlanamadı", num(float64(r.ConnectFailures), 0))
	}
	return l
}

// shapeCaption names a shape on a chart's axis: its name, then its load.
func shapeCaption(d *data, shape string) string {
	var r Result
	for _, s := range d.servers {
		if g := d.get(shape, s); g != nil {
			r = g.median
			break
		}
	}
	c := fmt.Sprintf("%s\n%s istemci, %s", shape, num(float64(r.Clients), 0), transportName(r.Transport))
	if r.Driver != "" {
		c += "\n(" + r.Driver + ")"
	}
	return c
}

// wrapLabel breaks a server's label before its parenthesis, so that long
// labels take two short lines on the axis.
func wrapLabel(s string) string {
	if i := strings.Index(s, " ("); i > 0 {
		return s[:i] + "\n" + s[i+1:]
	}
	return s
}
