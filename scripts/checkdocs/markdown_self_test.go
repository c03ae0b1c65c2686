package checkdocs

// These tests check the checkers themselves on small, known inputs, so that
// a green run over the repository means something.

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestSlugFollowsGitHub(t *testing.T) {
	tests := []struct{ heading, want string }{
		{"Socket.IO nedir?", "socketio-nedir"},
		{"Heroku nedir?", "heroku-nedir"},
		{"Sürüm uyumluluğu", "sürüm-uyumluluğu"},
		{"Çalıştırma ve ölçüm: ağ, şifre, güç", "çalıştırma-ve-ölçüm-ağ-şifre-güç"},
		{"İstemci kodumuz", "i\u0307stemci-kodumuz"},
		{"IŞIK ve ışık", "işik-ve-ışık"},
		{"`PORT` ve config vars", "port-ve-config-vars"},
		{"[Bağlantılı](x.md) başlık", "bağlantılı-başlık"},
		{"**Kalın** ve _eğik_ ve snake_case", "kalın-ve-eğik-ve-snake_case"},
		{"30 s / 55 s kuralları", "30-s--55-s-kuralları"},
		{"Adım 06: üretime hazır", "adım-06-üretime-hazır"},
		{"Engine.IO ile Socket.IO farkı", "engineio-ile-socketio-farkı"},
	}
	for _, tt := range tests {
		if got := slug(tt.heading); got != tt.want {
			t.Errorf("slug(%q) = %q, want %q", tt.heading, got, tt.want)
		}
	}
}

func TestHeadingsAreNumberedLikeGitHub(t *testing.T) {
	f := parseMarkdown("x.md", "# Özet\n\n## Özet\n\n```sh\n# not a heading\n```\n\nÖzet\n----\n\n"+
		"<!--\n# hidden\n-->\n## Özet-1\n")
	var got []string
	for _, h := range f.headings() {
		got = append(got, h.anchor)
	}
	want := []string{"özet", "özet-1", "özet-2", "özet-1-1"}
	if !slices.Equal(got, want) {
		t.Errorf("anchors = %q, want %q", got, want)
	}
}

func TestLinksAreFoundOutsideCodeOnly(t *testing.T) {
	md := "See [a](a.md#x) and ![img](img/p.png \"title\") and [ext](https://example.com).\n" +
		"Code: `[no](code.md)` and\n\n```md\n[no](fence.md)\n```\n\n" +
		"<a href=\"b.md\"><img src='c.png'></a> [r][def] [u][missing]\n\n" +
		"[def]: d.md#y\n[embedmd]:# (main.go /a/ /b/)\n[p](<with space.md>) [q](x_(1).md)\n"
	links, undefined := parseMarkdown("x.md", md).links()
	var got []string
	for _, l := range links {
		got = append(got, l.target)
	}
	slices.Sort(got)
	want := []string{"a.md#x", "b.md", "c.png", "d.md#y", "https://example.com", "img/p.png", "with space.md", "x_(1).md"}
	if !slices.Equal(got, want) {
		t.Errorf("links = %q, want %q", got, want)
	}
	if len(undefined) != 1 || undefined[0].target != "missing" {
		t.Errorf("undefined references = %v, want [missing]", undefined)
	}
}

// writeTree creates files under a temporary root and returns it.
func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for name, body := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func TestCheckLinkReportsBrokenTargetsAndAnchors(t *testing.T) {
	root := writeTree(t, map[string]string{
		"docs/a.md":         "# Başlık\n\n## İstemci kodumuz\n",
		"docs/b.md":         "text\n",
		"steps/x/main.go":   "package main\n\nfunc main() {}\n",
		"steps/x/README.md": "# Adım\n",
	})
	r := &repo{root: root, md: map[string]*mdFile{}}
	tests := []struct {
		target string
		ok     bool
	}{
		{"a.md", true},
		{"a.md#başlık", true},
		{"a.md#ba%C5%9Fl%C4%B1k", true},
		{"a.md#i%CC%87stemci-kodumuz", true},
		{"a.md#istemci-kodumuz", false},
		{"a.md#yok", false},
		{"#nothing-here", false},
		{"missing.md", false},
		{"../steps/x/main.go#L3", true},
		{"../steps/x/main.go#L9", false},
		{"../steps/x/main.go#func", false},
		{"../steps/x/", true},
		{"../steps/x#adım", true},
		{"/steps/x/main.go", true},
		{"../../outside.md", false},
	}
	for _, tt := range tests {
		why := r.checkLink("docs/b.md", tt.target)
		if (why == "") != tt.ok {
			t.Errorf("checkLink(%q): ok = %v (%s), want ok = %v", tt.target, why == "", why, tt.ok)
		}
	}
}

func TestEmbedDiffDetectsDrift(t *testing.T) {
	src := "package main\n\n// Limit is the limit.\nconst Limit = 5\n"
	doc := "Kod:\n\n[embedmd]:# (../main.go /const Limit.*/)\n```go\nconst Limit = 5\n```\n"
	root := writeTree(t, map[string]string{"main.go": src, "docs/p.md": doc})

	if d, err := embedDiff(root, "docs/p.md", doc); err != nil || d != "" {
		t.Fatalf("matching block: diff %q, err %v; want none", d, err)
	}
	if err := os.WriteFile(filepath.Join(root, "main.go"), []byte(strings.Replace(src, "5", "6", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	d, err := embedDiff(root, "docs/p.md", doc)
	if err != nil || !strings.Contains(d, "+const Limit = 6") {
		t.Errorf("drifted block: diff %q, err %v; want it to show the new line", d, err)
	}
	if _, err := embedDiff(root, "docs/p.md", "[embedmd]:# (https://example.com/x.go)\n"); err == nil {
		t.Error("a URL directive was fetched; want it refused (no network)")
	}
	if _, err := embedDiff(root, "docs/p.md", "[embedmd]:# (../../etc/passwd text)\n"); err == nil {
		t.Error("a directive outside the repository was read; want it refused")
	}
}

func TestPastedCodeIsFound(t *testing.T) {
	md := "[embedmd]:# (main.go /a/)\n```go\na\n```\n\n```go\npasted\n```\n\n```sh\ngo run .\n```\n\n" +
		"```mermaid\nsequenceDiagram\n```\n\n~~~js\npasted\n~~~\n"
	var pasted []int
	for _, fc := range parseMarkdown("docs/x.md", md).fences {
		if codeLangs[fc.lang] && (fc.marker != "```" || !strings.HasPrefix(fc.prev, "[embedmd]:#")) {
			pasted = append(pasted, fc.line)
		}
	}
	if !slices.Equal(pasted, []int{6, 18}) {
		t.Errorf("pasted blocks at lines %v, want [6 18]", pasted)
	}
	for _, tt := range []struct {
		rel  string
		want bool
	}{
		{"docs/01-socketio-nedir.md", true},
		{"steps/05-socketio-broadcast/README.md", true},
		{"README.md", false},
		{"third_party/socketioclient/README.md", false},
	} {
		if got := mustEmbed(tt.rel); got != tt.want {
			t.Errorf("mustEmbed(%q) = %v, want %v", tt.rel, got, tt.want)
		}
	}
}

func TestStaleFactsAreFoundUnlessDenied(t *testing.T) {
	tests := []struct {
		text  string
		stale bool
	}{
		{"Uygulamayı ücretsiz dyno üzerinde çalıştırabilirsiniz.", true},
		{"Heroku ücretsizdir, hemen deneyin.", true},
		{"You can host it on a free dyno.", true},
		{"- Hobby dyno seçin.", true},
		{"Ayrıca `BUILDPACK_URL` ayarlayın.", true},
		{"İstemciyi https://cdn.socket.io/4.7.5/socket.io.min.js adresinden alın.", true},
		{"Artık ücretsiz dyno yok.", false},
		{"Heroku, 28 Kasım 2022'den beri ücretsiz dyno sunmuyor.", false},
		{"Ücretsiz dyno kalmadı; Eco dyno ayda yaklaşık 5 dolar.", false},
		{"Heroku'da ücretsiz katman artık bulunmaz.", false},
		{"Eski Hobby dynoların yerini Basic aldı.", false},
		{"Heroku Key-Value Store (eski adıyla Heroku Redis) bir eklentidir.", false},
		{"CDN'deki istemciyi (cdn.socket.io) kullanmayın: 4.x gelir.", false},
		{"Bu satır ücretsiz dyno yok der.\n\nAma bu paragraf ücretsiz dyno vaat ediyor.", true},
		{"| plan | fiyat |\n|---|---|\n| ücretsiz dyno | var |\n", true},
		{"| ücretsiz dyno | yok (2022-11-28'den beri) |\n", false},
		{"```sh\nnpm install socket.io-client\n```\n", true},
		{"```sh\nnpm install socket.io-client@2.5.0\n```\n", false},
		{"Eco ve Basic dynolar ücretlidir.", false},
	}
	for _, tt := range tests {
		found := staleIn(parseMarkdown("x.md", tt.text))
		if (len(found) > 0) != tt.stale {
			t.Errorf("%q: stale = %v (%q), want %v", tt.text, len(found) > 0, found, tt.stale)
		}
	}
}

func TestAvoidedTermsAreFound(t *testing.T) {
	glossary := parseMarkdown("g.md", "# Sözlük\n\n| a | b |\n|---|---|\n| istemci | client |\n\n"+
		"## Kullanmadığımız karşılıklar\n\n| Kullanmıyoruz | Yerine | Neden? |\n|---|---|---|\n"+
		"| müşteri | istemci | x |\n| isim alanı / isim alanları | ad alanı | y |\n| yayımla | yayınla | z |\n\n## Sonra\n\n| c | d |\n")
	terms := avoidedTerms(glossary)
	var words []string
	for _, term := range terms {
		words = append(words, term.word)
	}
	if !slices.Equal(words, []string{"müşteri", "isim alanı", "isim alanları", "yayımla"}) {
		t.Fatalf("avoided terms = %q", words)
	}
	tests := []struct {
		text string
		hits int
	}{
		{"Müşteriler bağlanır.", 1},
		{"İSİM ALANI ve isim\nalanı", 2},
		{"isim alanları", 1}, // only the second listed form
		{"MESAJ YAYIMLANDI", 1},
		{"istemci, ad alanı, yayınlandı", 0},
		{"birmüşteri", 0},
	}
	for _, tt := range tests {
		hits := 0
		for _, term := range terms {
			hits += len(term.re.FindAllStringIndex(turkishLower(tt.text), -1))
		}
		if hits != tt.hits {
			t.Errorf("%q: %d hits, want %d", tt.text, hits, tt.hits)
		}
	}
}

func TestASCIITurkishIsFound(t *testing.T) {
	tests := []struct {
		text string
		hits int
	}{
		{"Bu sayfa icin baglanti kurun ve gonderin.", 3},
		{"Bu sayfa için bağlantı kurun ve gönderin.", 0},
		{"[Sözlük](07-sozluk.md) ve <https://ornek.com/surum> ile `icin` kodu.", 0},
		{"Kod: `kullanici := 1` ama metinde kullanici yazılmış.", 1},
		{"İcinde is not a stem match, but ICIN is.", 1},
	}
	for _, tt := range tests {
		found := asciiTurkishIn(parseMarkdown("x.md", tt.text).prose)
		if len(found) != tt.hits {
			t.Errorf("%q: found %q, want %d", tt.text, found, tt.hits)
		}
	}
}
