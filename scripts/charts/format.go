package main

import (
	"math"
	"strconv"
	"strings"
)

// num formats v with dec decimals the Turkish way (docs/07-sozluk.md,
// "Sayılar"): a decimal comma, and dots between thousands from five
// digits on (12.345,5; but 1234,5).
func num(v float64, dec int) string {
	s := strconv.FormatFloat(math.Abs(v), 'f', dec, 64)
	intPart, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	if v < 0 && strings.Trim(s, "0.") != "" {
		b.WriteByte('-')
	}
	for i, c := range intPart {
		if i > 0 && len(intPart) >= 5 && (len(intPart)-i)%3 == 0 {
			b.WriteByte('.')
		}
		b.WriteRune(c)
	}
	if frac != "" {
		b.WriteByte(',')
		b.WriteString(frac)
	}
	return b.String()
}

// ms formats a latency: milliseconds below a second ("4,5 ms", "631
// ms"), seconds from there on ("1,28 sn").
func ms(v float64) string {
	switch {
	case v < 9.95:
		return num(v, 1) + " ms"
	case v < 999.5:
		return num(v, 0) + " ms"
	case v < 9995:
		return num(v/1000, 2) + " sn"
	default:
		return num(v/1000, 1) + " sn"
	}
}

// pct formats a percentage the Turkish way, sign first: "%0,25". A loss
// too small for two decimals is not shown as zero, and no loss is "%0".
func pct(v float64) string {
	switch {
	case v == 0:
		return "%0"
	case v > 0 && v < 0.005:
		return "<%0,01"
	}
	return "%" + num(v, 2)
}

// secs formats a duration in seconds: "10 sn", "1,5 sn".
func secs(v float64) string {
	if v == math.Trunc(v) {
		return num(v, 0) + " sn"
	}
	return num(v, 1) + " sn"
}

// kb formats kilobytes, mb megabytes from kilobytes.
func kb(v float64) string    { return num(v, 1) + " KB" }
func mb(kbytes int64) string { return num(float64(kbytes)/1024, 0) + " MB" }

// transportName is a transport as the course's pages call it.
func transportName(t string) string {
	switch t {
	case "websocket":
		return "WebSocket"
	case "polling":
		return "uzun yoklama"
	case "upgrade", "default":
		return "uzun yoklama, sonra WebSocket"
	case "":
		return "düz WebSocket"
	}
	return t
}

// driverName is the load driver of a run.
func driverName(r Result) string {
	if r.Driver != "" {
		return r.Driver + " (Node)"
	}
	return "scripts/loadtest (Go)"
}
