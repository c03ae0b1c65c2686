package checkdocs

// These tests hold the Markdown reader to what GitHub shows, on samples
// chosen to trip a line-by-line reader.

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// trickySample has, by line: nested brackets and a code span that looks
// like a link (3), a reference link, an undefined one and two autolinks
// (4), a fence with its embedmd directive inside a list item (8-11), an
// HTML comment that holds a link and a heading (13-15), a fence in a quote
// (17-19), an HTML block with text, an id and a link in a comment (21-26),
// and Turkish headings with duplicates (1, 28, 31, 33, 35).
var trickySample = strings.Join([]string{
	"# İstekleri denetlemek", // 1
	"",
	"See [a [nested] text](a.md#x), `[no](code.md)` and ![alt](img/p.png \"title\").",
	"Also [r][def], [u][missing], <https://example.com> and https://bare.example.com/x.",
	"",
	"- A list item:",
	"",
	"  [embedmd]:# (main.go /a/)", // 8
	"  ```go",
	"  a := \"[no](list.md)\"",
	"  ```",
	"",
	"<!-- [hidden](hidden.md)", // 13
	"# Not a heading",
	"-->",
	"",
	"> ```sh", // 17
	"> npm install x",
	"> ```",
	"",
	"<details id=\"cevap\">", // 21
	"<summary>Cevap</summary>",
	"",
	"Inner [in](in.md) <a href=\"b.md\">b</a> <!-- [c](c.md) -->.",
	"",
	"</details>",
	"",
	"Özet", // 28
	"----",
	"",
	"## Özet", // 31
	"",
	"## Özet-1", // 33
	"",
	"## `PORT` ve [bağlantı](x.md) &amp; _eğik_", // 35
	"",
	"[def]: d.md#y", // 37
	"[embedmd]:# (main.go /a/ /b/)",
	"",
}, "\n")

func TestReaderFindsLinksOutsideCode(t *testing.T) {
	f := parseMarkdown("docs/x.md", trickySample)
	var got []string
	for _, l := range f.links {
		got = append(got, fmt.Sprintf("%d %s", l.line, l.target))
	}
	want := []string{
		"3 a.md#x", "3 img/p.png",
		"4 https://example.com", "4 https://bare.example.com/x",
		"24 in.md", "24 b.md",
		"35 x.md",
		"37 d.md#y", // [r][def] is checked here, at its definition
	}
	if !slices.Equal(got, want) {
		t.Errorf("links =\n%q\nwant\n%q", got, want)
	}
	if len(f.undefined) != 1 || f.undefined[0] != (link{line: 4, target: "missing"}) {
		t.Errorf("undefined references = %v, want [missing] on line 4", f.undefined)
	}
}

func TestReaderGivesGitHubAnchors(t *testing.T) {
	f := parseMarkdown("docs/x.md", trickySample)
	var got []string
	for _, h := range f.headings {
		got = append(got, fmt.Sprintf("%d %s", h.line, h.anchor))
	}
	want := []string{
		"1 i\u0307stekleri-denetlemek",
		"28 özet", "31 özet-1", "33 özet-1-1",
		"35 port-ve-bağlantı--eğik",
	}
	if !slices.Equal(got, want) {
		t.Errorf("headings =\n%q\nwant\n%q", got, want)
	}
	if a := f.anchors(); !a["cevap"] || a["not-a-heading"] {
		t.Errorf("anchors = %v: want the HTML id cevap and nothing from the comment", sortedKeys(a))
	}
}

func TestReaderFindsFences(t *testing.T) {
	f := parseMarkdown("docs/x.md", trickySample)
	want := []fence{
		{line: 9, open: "  ```go", marker: "```", lang: "go", prev: "  [embedmd]:# (main.go /a/)", body: "a := \"[no](list.md)\"\n"},
		{line: 17, open: "> ```sh", marker: "```", lang: "sh", prev: "", body: "npm install x\n"},
	}
	if !slices.Equal(f.fences, want) {
		t.Errorf("fences =\n%+v\nwant\n%+v", f.fences, want)
	}
	f = parseMarkdown("x.md", "Text\n~~~~ JS title\n```\n~~~~\n\n```\nunclosed\n")
	want = []fence{
		{line: 2, open: "~~~~ JS title", marker: "~~~~", lang: "js", prev: "Text", body: "```\n"},
		{line: 6, open: "```", marker: "```", prev: "", body: "unclosed\n"},
	}
	if !slices.Equal(f.fences, want) {
		t.Errorf("fences =\n%+v\nwant\n%+v", f.fences, want)
	}
}

func TestReaderSeparatesProseFromCode(t *testing.T) {
	f := parseMarkdown("docs/x.md", trickySample)
	if len(f.prose) != len(f.raw) || len(f.noFence) != len(f.raw) ||
		strings.Count(f.prose, "\n") != strings.Count(f.raw, "\n") {
		t.Fatal("prose and noFence must keep the file's offsets and lines")
	}
	for _, w := range []string{"İstekleri", "nested", "alt", "A list item", "Cevap", "Inner", "Özet", "eğik"} {
		if !strings.Contains(f.prose, w) {
			t.Errorf("prose lacks %q", w)
		}
	}
	for _, w := range []string{"code.md", "list.md", "hidden", "Not a heading", "npm", "example", "c.md", "href", "summary", "main.go", "d.md", "PORT"} {
		if strings.Contains(f.prose, w) {
			t.Errorf("prose has %q, which is code, markup or a link target", w)
		}
	}
	for _, w := range []string{"`[no](code.md)`", "https://example.com", "[def]: d.md#y"} {
		if !strings.Contains(f.noFence, w) {
			t.Errorf("noFence lacks %q", w)
		}
	}
	for _, w := range []string{"```", "list.md", "npm install", "hidden", "c.md"} {
		if strings.Contains(f.noFence, w) {
			t.Errorf("noFence has %q, from a fence or a comment", w)
		}
	}
}

func TestSlugFollowsGitHub(t *testing.T) {
	tests := []struct{ heading, want string }{
		{"Socket.IO nedir?", "socketio-nedir"},
		{"Heroku nedir?", "heroku-nedir"},
		{"Sürüm uyumluluğu", "sürüm-uyumluluğu"},
		{"Çalıştırma ve ölçüm: ağ, şifre, güç", "çalıştırma-ve-ölçüm-ağ-şifre-güç"},
		{"İstekleri denetlemek", "i\u0307stekleri-denetlemek"},
		{"IŞIK ve ışık", "işik-ve-ışık"},
		{"`PORT` ve config vars", "port-ve-config-vars"},
		{"[Bağlantılı](x.md) başlık", "bağlantılı-başlık"},
		{"**Kalın** ve _eğik_ ve snake_case", "kalın-ve-eğik-ve-snake_case"},
		{"30 s / 55 s kuralları", "30-s--55-s-kuralları"},
		{"Adım 06: üretime hazır", "adım-06-üretime-hazır"},
		{"Engine.IO ile Socket.IO farkı", "engineio-ile-socketio-farkı"},
		{"Başlık <kbd>Ctrl</kbd> ##", "başlık-ctrl"},
	}
	for _, tt := range tests {
		f := parseMarkdown("x.md", "# "+tt.heading+"\n")
		if len(f.headings) != 1 || f.headings[0].anchor != tt.want {
			t.Errorf("# %s: headings %+v, want the anchor %q", tt.heading, f.headings, tt.want)
		}
	}
}
