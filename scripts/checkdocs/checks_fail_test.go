package checkdocs

// These tests feed each check a fault it must catch, so that a green run
// over the repository means something: a small made-up repository that
// passes every check, then the same repository with one fault at a time.

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

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

// sampleTree is a small repository that passes every check.
func sampleTree() map[string]string {
	return map[string]string{
		"README.md": "# Sohbet\n\n[Belgeler](docs/README.md) ve [ilk adım](steps/01-ilk/).\n",
		"docs/README.md": "# Belgeler\n\n" +
			"- [Sunucu](03-sunucu.md#i\u0307stekleri-denetlemek)\n" +
			"- [İkinci özet](03-sunucu.md#özet-1)\n" +
			"- [Sözlük](07-sozluk.md#kullanmadığımız-karşılıklar)\n",
		"docs/03-sunucu.md": "# Sunucu\n\n## İstekleri denetlemek\n\nSınır şu sabitte:\n\n" +
			"[embedmd]:# (../steps/01-ilk/main.go /const Limit.*/)\n```go\nconst Limit = 5\n```\n\n" +
			"## Özet\n\nBir.\n\n## Özet\n\nİki.\n",
		"docs/07-sozluk.md": "# Sözlük\n\n## Kullanmadığımız karşılıklar\n\n" +
			"| Kullanmıyoruz | Yerine | Neden? |\n|---|---|---|\n| müşteri | istemci | Socket.IO böyle der. |\n",
		"steps/01-ilk/README.md": "# Adım 01\n\n[Sunucu](../../docs/03-sunucu.md#sunucu) sayfasına bakın.\n",
		"steps/01-ilk/main.go":   "package main\n\n// Limit bir sınırdır.\nconst Limit = 5\n\nfunc main() {}\n",
	}
}

// checks runs each repository check on r and returns its problems.
var checks = map[string]func(r *repo) []string{
	"links":     func(r *repo) []string { p, _ := r.brokenLinks(); return p },
	"embed":     func(r *repo) []string { p, _ := r.embedDrift(); return p },
	"pasted":    func(r *repo) []string { p, _ := r.pastedCode(); return p },
	"stale":     (*repo).staleFacts,
	"reachable": (*repo).unreachableDocs,
	"glossary": func(r *repo) []string {
		p, _, _, err := r.avoidedTermsUsed()
		if err != nil {
			return []string{err.Error()}
		}
		return p
	},
	"turkish": (*repo).asciiTurkish,
}

func TestEveryCheckPassesTheSample(t *testing.T) {
	r, err := readRepo(writeTree(t, sampleTree()))
	if err != nil {
		t.Fatal(err)
	}
	for name, check := range checks {
		if problems := check(r); len(problems) > 0 {
			t.Errorf("%s: %q on the sample; want none", name, problems)
		}
	}
}

func TestEveryCheckCatchesItsFault(t *testing.T) {
	// appendTo adds text to a file of the sample (creating the file).
	appendTo := func(file, text string) func(map[string]string) {
		return func(files map[string]string) { files[file] += text }
	}
	// replaceIn replaces old with new in a file of the sample.
	replaceIn := func(file, old, new string) func(map[string]string) {
		return func(files map[string]string) { files[file] = strings.Replace(files[file], old, new, 1) }
	}
	tests := []struct {
		name  string
		check string
		edit  func(map[string]string)
		// want is part of the problem the check must report; "" means the
		// edit is allowed and the check must pass.
		want string
	}{
		{"a link to a missing file is broken", "links",
			appendTo("docs/README.md", "- [Yok](yok.md)\n"), "yok.md does not exist"},
		{"an anchor that lacks the dot of İ is broken", "links",
			appendTo("docs/README.md", "- [Sunucu](03-sunucu.md#istekleri-denetlemek)\n"),
			"no heading in docs/03-sunucu.md has the anchor #istekleri-denetlemek"},
		{"a third duplicate heading's anchor does not exist", "links",
			appendTo("docs/README.md", "- [Özet](03-sunucu.md#özet-2)\n"), "#özet-2"},
		{"a percent-encoded anchor is decoded", "links",
			appendTo("docs/README.md", "- [Özet](03-sunucu.md#%C3%B6zet-1)\n"), ""},
		{"a reference link needs a definition", "links",
			appendTo("docs/README.md", "\nBakın: [sözlük][tanımsız].\n"), "reference link [tanımsız] has no definition"},
		{"a reference definition is checked even when unused", "links",
			appendTo("docs/README.md", "\n[eski]: yok.md\n"), "yok.md does not exist"},
		{"a link in a nested list item is checked", "links",
			appendTo("docs/README.md", "  - iç madde\n\n    [Yok](yok.md)\n"), "yok.md does not exist"},
		{"an href in an HTML block is checked", "links",
			appendTo("docs/README.md", "\n<p><a href=\"yok.html\">yok</a></p>\n"), "yok.html does not exist"},
		{"a line anchor past the end of the file is broken", "links",
			appendTo("steps/01-ilk/README.md", "[main.go](main.go#L99)\n"), "has only 7 lines"},
		{"a link may not leave the repository", "links",
			appendTo("docs/README.md", "- [Dışarı](../../dışarı.md)\n"), "leaves the repository"},
		{"links in code and comments are not followed", "links",
			appendTo("docs/README.md", "\n`[a](yok.md)` <!-- [b](yok.md) -->\n\n```md\n[c](yok.md)\n```\n"), ""},

		{"code that drifted from its source is caught", "embed",
			replaceIn("steps/01-ilk/main.go", "Limit = 5", "Limit = 6"), "+const Limit = 6"},
		{"a directive with no block under it is caught", "embed",
			appendTo("docs/03-sunucu.md", "\n[embedmd]:# (../steps/01-ilk/main.go /func main/)\n"), "differ from their sources"},
		{"a directive may not fetch a URL", "embed",
			appendTo("docs/03-sunucu.md", "\n[embedmd]:# (https://example.com/x.go)\n"), "no URLs"},

		{"a pasted Go block in docs/ is caught", "pasted",
			appendTo("docs/03-sunucu.md", "\n```go\nfunc main() {}\n```\n"), "go code block is pasted"},
		{"a pasted HTML block in a step README is caught", "pasted",
			appendTo("steps/01-ilk/README.md", "\n```html\n<p>x</p>\n```\n"), "html code block is pasted"},
		{"a block fenced with tildes is caught", "pasted",
			appendTo("docs/03-sunucu.md", "\n[embedmd]:# (../steps/01-ilk/main.go /const Limit.*/)\n~~~js\nconst Limit = 5\n~~~\n"),
			`fenced with "~~~"`},
		{"a block in a list, which embedmd cannot fill, is caught", "pasted",
			appendTo("docs/03-sunucu.md", "\n- Sabit:\n\n  [embedmd]:# (../steps/01-ilk/main.go /const Limit.*/)\n  ```go\n  const Limit = 5\n  ```\n"),
			"go block is indented"},
		{"shell blocks and the front page may hold any code", "pasted",
			func(files map[string]string) {
				files["docs/03-sunucu.md"] += "\n```sh\ngo run .\n```\n"
				files["README.md"] += "\n```go\nfunc main() {}\n```\n"
			}, ""},

		{"free dynos are a stale fact", "stale",
			appendTo("docs/03-sunucu.md", "\nUygulama ücretsiz dyno üzerinde çalışır.\n"), "no free dynos"},
		{"a stale fact in a code span is caught", "stale",
			appendTo("docs/03-sunucu.md", "\nAyrıca `BUILDPACK_URL` ayarlayın.\n"), "BUILDPACK_URL is obsolete"},
		{"an unpinned client in a command is a stale fact", "stale",
			appendTo("steps/01-ilk/README.md", "\n```sh\nnpm install socket.io-client\n```\n"), "pin socket.io-client@2.5.0"},
		{"a denied claim is no stale fact", "stale",
			appendTo("docs/03-sunucu.md", "\nArtık ücretsiz dyno yok.\n"), ""},

		{"a docs page nothing links to is caught", "reachable",
			appendTo("docs/09-yetim.md", "# Yetim\n"), "docs/09-yetim.md cannot be reached"},
		{"a link in a comment or code reaches nothing", "reachable",
			func(files map[string]string) {
				files["docs/09-yetim.md"] = "# Yetim\n"
				files["docs/README.md"] += "\n<!-- [Yetim](09-yetim.md) --> `[Yetim](09-yetim.md)`\n"
			}, "docs/09-yetim.md cannot be reached"},
		{"a page reached through a folder's README is fine", "reachable",
			func(files map[string]string) {
				files["docs/09-yetim.md"] = "# Yetim\n"
				files["steps/01-ilk/README.md"] += "\n[Yetim](../../docs/09-yetim.md)\n"
			}, ""},

		{"an avoided word in a doc is caught", "glossary",
			appendTo("docs/03-sunucu.md", "\nHer müşteri bağlanır.\n"), `"müşteri": the glossary (docs/07-sozluk.md) says "istemci"`},
		{"an avoided word in a step's code is caught", "glossary",
			replaceIn("steps/01-ilk/main.go", "func main() {}", "// Müşteri bağlanır.\nfunc main() {}"), "steps/01-ilk/main.go:6:"},
		{"a glossary without its table is caught", "glossary",
			replaceIn("docs/07-sozluk.md", "## Kullanmadığımız karşılıklar", "## Başka"), "has no table"},

		{"ASCII typing in a doc's prose is caught", "turkish",
			appendTo("docs/03-sunucu.md", "\nBu sayfa icin yazildi.\n"), `"icin" (için…)`},
		{"ASCII typing in an exercise's summary is caught", "turkish",
			appendTo("steps/01-ilk/README.md", "\n<details>\n<summary>Cevap: gonder</summary>\n\nx\n\n</details>\n"), `"gonder" (gönder…)`},
		{"ASCII typing in a table cell is caught", "turkish",
			appendTo("docs/07-sozluk.md", "| isim alanı | ad alanı | Daha acik. |\n"), `"acik" (açık…)`},
		{"code, link targets and URLs are no prose", "turkish",
			appendTo("docs/03-sunucu.md", "\n`kullanici` [Sözlük](07-sozluk.md) https://ornek.com/surum\n\n```sh\necho icin\n```\n"), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := sampleTree()
			tt.edit(files)
			r, err := readRepo(writeTree(t, files))
			if err != nil {
				t.Fatal(err)
			}
			problems := checks[tt.check](r)
			if tt.want == "" {
				if len(problems) > 0 {
					t.Errorf("%s check: %q; want none", tt.check, problems)
				}
				return
			}
			for _, p := range problems {
				if strings.Contains(p, tt.want) {
					return
				}
			}
			t.Errorf("%s check: %q; want a problem with %q", tt.check, problems, tt.want)
		})
	}
}

func TestCheckLinkReportsBrokenTargetsAndAnchors(t *testing.T) {
	root := writeTree(t, map[string]string{
		"docs/a.md":         "# Başlık\n\n## İstemci kodumuz\n\n<a name=\"eski\"></a>\n",
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
		{"a.md#eski", true},
		{"a.md#istemci-kodumuz", false},
		{"a.md#yok", false},
		{"a.md#%zz", false},
		{"#nothing-here", false},
		{"missing.md", false},
		{"../steps/x/main.go#L3", true},
		{"../steps/x/main.go#L1-L3", true},
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
	if _, err := embedDiff(root, "docs/p.md", "[embedmd]:# (../../etc/passwd text)\n"); err == nil {
		t.Error("a directive outside the repository was read; want it refused")
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
		{"Yığın olarak cedar-14 seçin.", true},
		{"Eco dynolar Cedar kuşağında çalışır.", false},
		{"Bağımlılıkları Godeps ile sabitleyin.", true},
		{"Heroku Redis eklentisini kurun.", true},
		{"İstemciyi https://cdn.socket.io/4.7.5/socket.io.min.js adresinden alın.", true},
		{"[İstemci](https://unpkg.com/socket.io-client) kullanın.", true},
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
		{"<!-- ücretsiz dyno -->", false},
		{"```sh\nnpm install socket.io-client\n```\n", true},
		{"- Kurun:\n\n  ```sh\n  npm i -D socket.io-client\n  ```\n", true},
		{"```sh\nnpm install socket.io-client@2.5.0\n```\n", false},
		{"```text\nücretsiz dyno\n```\n", false},
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
		"| müşteri | istemci | x |\n| isim alanı / **isim alanları** | `ad alanı` | y |\n| yayımla | yayınla | z |\n\n"+
		"## Sonra\n\n| c | d |\n|---|---|\n| e | f |\n")
	terms := avoidedTerms(glossary)
	var got []string
	for _, term := range terms {
		got = append(got, term.word+" -> "+term.instead)
	}
	want := []string{"müşteri -> istemci", "isim alanı -> ad alanı", "isim alanları -> ad alanı", "yayımla -> yayınla"}
	if !slices.Equal(got, want) {
		t.Fatalf("avoided terms = %q, want %q", got, want)
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
		{"[Sözlük][s] ile [güncel][]\n\n[s]: 07-sozluk.md\n[güncel]: guncel.md\n", 0},
		{"<p>Mesajlari <b>gonder</b></p>\n", 2},
		{"<!-- icin -->\n\n```sh\necho icin\n```\n\n    icin\n", 0},
	}
	for _, tt := range tests {
		found := asciiTurkishIn(parseMarkdown("x.md", tt.text).prose)
		if len(found) != tt.hits {
			t.Errorf("%q: found %q, want %d", tt.text, found, tt.hits)
		}
	}
}
