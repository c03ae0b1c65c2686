package main

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// tableHeader starts results.md. It names the tool that wrote the file,
// so that nobody edits it by hand.
const tableHeader = `# Yük testi sonuçları

<!-- Bu dosyayı ve yanındaki grafikleri scripts/charts, results.jsonl dosyasından üretir; elle değiştirmeyin. Yeniden üretmek için: go run ./scripts/charts -->

Ölçümü ` + "`scripts/bench/compare.sh`" + ` yaptı; makine ve komut satırı ` + "`machine.txt`" + ` dosyasındadır.
Bir sunucu bir yükle birden çok kez ölçüldüyse tablo ve grafikler ortadaki koşuyu gösterir:
p99 gecikmesi ortada olanı, boşta yükünde bağlantı başına belleği ortada olanı.
Sayılar tek bir makinede, yükü üreten araçla aynı çekirdeklerde ölçüldü; sunucuları yalnızca aynı ölçüm içinde karşılaştırın.
`

// table writes results.md: the charts, then one table per shape.
func table(d *data, chartNames []string, alts []string) []byte {
	var b strings.Builder
	b.WriteString(tableHeader)
	if len(chartNames) > 0 {
		for i, name := range chartNames {
			fmt.Fprintf(&b, "\n![%s](%s)\n", alts[i], name)
		}
	}
	for _, shape := range d.shapes {
		servers := d.serversOf(shape)
		first := d.get(shape, servers[0]).median
		fmt.Fprintf(&b, "\n## %s\n\n%s\n\n", shape, shapeSentence(first))
		b.WriteString("| sunucu | bağlanan | teslim/sn | kayıp | p50 | p90 | p99 | en çok | boşta bağlantı başına bellek | en yüksek RSS | CPU | koşu |\n")
		b.WriteString("|---|---|---|---|---|---|---|---|---|---|---|---|\n")
		for _, s := range servers {
			g := d.get(shape, s)
			r := g.median
			dash := func(ok bool, s string) string {
				if ok {
					return s
				}
				return "—"
			}
			connected := fmt.Sprintf("%s / %s", num(float64(r.Connected), 0), num(float64(r.Clients), 0))
			if r.ConnectSeconds > 0 {
				connected += fmt.Sprintf(" (%s sn)", num(r.ConnectSeconds, 1))
			}
			lost := fmt.Sprintf("%s (%s)", num(float64(r.Lost), 0), pct(r.LossPercent))
			if r.Disconnects > 0 {
				lost += fmt.Sprintf(", %s koptu", num(float64(r.Disconnects), 0))
			}
			if r.Duplicates > 0 {
				lost += fmt.Sprintf(", %s mesaj iki kez geldi", num(float64(r.Duplicates), 0))
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
				s, connected, num(r.DeliveredPS, 0), lost,
				ms(r.P50), ms(r.P90), ms(r.P99), ms(r.Max),
				dash(r.MemPerConnKB > 0, kb(r.MemPerConnKB)),
				dash(r.RSSPeakKB > 0, mb(r.RSSPeakKB)),
				dash(r.PID > 0, "%"+num(r.CPUPercent, 0)),
				runsCell(g))
		}
	}
	return []byte(b.String())
}

// shapeSentence describes a shape's load in one sentence.
func shapeSentence(r Result) string {
	load := fmt.Sprintf("%s istemci, %s gönderen, saniyede toplam %s mesaj",
		num(float64(r.Clients), 0), num(float64(r.Senders), 0), num(r.Rate, 0))
	timing := fmt.Sprintf("%s ısınmadan sonra %s ölçüm", secs(r.Warmup), secs(r.Duration))
	if r.Senders <= 1 && r.Sent <= 1 {
		load = fmt.Sprintf("%s istemci boşta bekler, sonra tek bir mesaj herkese gider", num(float64(r.Clients), 0))
		timing = "bellek, bağlantılar oturduktan sonra ölçülür"
	}
	return fmt.Sprintf("%s; taşıma: %s; yükü üreten: %s; %s.", load, transportName(r.Transport), driverName(r), timing)
}

// runsCell tells how many runs the row stands for, their p99 range and
// how many of them lost messages or clients.
func runsCell(g *group) string {
	if len(g.runs) == 1 {
		return "1"
	}
	p := slices.SortedFunc(slices.Values(g.runs), func(a, b Result) int { return cmp.Compare(a.P99, b.P99) })
	c := fmt.Sprintf("%d (p99: %s – %s)", len(g.runs), ms(p[0].P99), ms(p[len(p)-1].P99))
	bad := 0
	for _, r := range g.runs {
		if r.Lost > 0 || r.Disconnects > 0 || r.ConnectFailures > 0 {
			bad++
		}
	}
	if bad > 0 {
		c += fmt.Sprintf(", %d koşuda kayıp", bad)
	}
	return c
}
