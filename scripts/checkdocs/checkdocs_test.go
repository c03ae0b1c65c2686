package checkdocs

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"github.com/campoy/embedmd/embedmd"
	"github.com/pmezard/go-difflib/difflib"

	repodir "sohbet/internal/repo"
)

// skipDirs are folders whose Markdown is not the project's own.
var skipDirs = map[string]bool{".git": true, "node_modules": true, "testdata": true}

// repoRoot finds the repository root: the nearest folder with go.mod.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := repodir.Root()
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// markdownFiles lists every *.md file under root, as slash paths relative
// to root, skipping skipDirs.
func markdownFiles(root string) ([]string, error) {
	var files []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if skipDirs[d.Name()] {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(d.Name(), ".md") {
			rel, err := filepath.Rel(root, p)
			if err != nil {
				return err
			}
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	if err == nil && len(files) == 0 {
		err = fmt.Errorf("no Markdown files under %s", root)
	}
	return files, err
}

// repo is the repository's Markdown, read once per test.
type repo struct {
	root  string
	files []string
	md    map[string]*mdFile
}

// loadRepo reads the Markdown of the repository the test runs in.
func loadRepo(t *testing.T) *repo {
	t.Helper()
	r, err := readRepo(repoRoot(t))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// readRepo reads every Markdown file under root. The checks below take
// the result, so that tests can also run them on a small made-up tree.
func readRepo(root string) (*repo, error) {
	files, err := markdownFiles(root)
	if err != nil {
		return nil, err
	}
	r := &repo{root: root, files: files, md: map[string]*mdFile{}}
	for _, rel := range files {
		if r.md[rel], err = readMarkdown(root, rel); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// report fails t with each problem a check found.
func report(t *testing.T, problems []string) {
	t.Helper()
	for _, p := range problems {
		t.Error(p)
	}
}

// anchorsOf returns the anchors of the Markdown file rel, reading it if it
// is not one of the walked files (for example a README inside a folder).
func (r *repo) anchorsOf(rel string) (map[string]bool, error) {
	f, ok := r.md[rel]
	if !ok {
		var err error
		if f, err = readMarkdown(r.root, rel); err != nil {
			return nil, err
		}
		r.md[rel] = f
	}
	return f.anchors(), nil
}

var lineAnchorRE = regexp.MustCompile(`^L(\d+)(?:-L(\d+))?$`)

// checkLink returns why a relative link target in file rel is broken, or "".
func (r *repo) checkLink(rel, target string) string {
	p, frag, hasFrag, err := splitTarget(path.Dir(rel), target)
	if err != nil {
		return fmt.Sprintf("bad escape in %q: %v", target, err)
	}
	if p == "" {
		p = rel
	}
	if p == ".." || strings.HasPrefix(p, "../") {
		return fmt.Sprintf("%q leaves the repository", target)
	}
	info, err := os.Stat(filepath.Join(r.root, filepath.FromSlash(p)))
	if err != nil {
		return fmt.Sprintf("%q: %s does not exist", target, p)
	}
	if !hasFrag || frag == "" {
		return ""
	}
	if info.IsDir() {
		p = path.Join(p, "README.md") // GitHub shows a folder's README
	}
	switch {
	case strings.HasSuffix(p, ".md"):
		anchors, err := r.anchorsOf(p)
		if err != nil {
			return fmt.Sprintf("%q: %v", target, err)
		}
		if !anchors[frag] {
			return fmt.Sprintf("%q: no heading in %s has the anchor #%s (anchors: %s)",
				target, p, frag, strings.Join(sortedKeys(anchors), ", "))
		}
	case lineAnchorRE.MatchString(frag):
		b, err := os.ReadFile(filepath.Join(r.root, filepath.FromSlash(p)))
		if err != nil {
			return fmt.Sprintf("%q: %v", target, err)
		}
		n := strings.Count(string(b), "\n") + 1
		for _, g := range lineAnchorRE.FindStringSubmatch(frag)[1:] {
			if v, _ := strconv.Atoi(g); g != "" && v > n {
				return fmt.Sprintf("%q: %s has only %d lines", target, p, n)
			}
		}
	default:
		return fmt.Sprintf("%q: only Markdown files and #L<line> anchors can be checked", target)
	}
	return ""
}

func sortedKeys(m map[string]bool) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// brokenLinks returns the broken relative links and #anchors of every
// Markdown file, and the reference links with no definition; checked is
// the number of relative links it followed.
func (r *repo) brokenLinks() (problems []string, checked int) {
	for _, rel := range r.files {
		f := r.md[rel]
		for _, l := range f.undefined {
			problems = append(problems, fmt.Sprintf("%s:%d: reference link [%s] has no definition", rel, l.line, l.target))
		}
		for _, l := range f.links {
			if isExternal(l.target) {
				continue
			}
			checked++
			if why := r.checkLink(rel, l.target); why != "" {
				problems = append(problems, fmt.Sprintf("%s:%d: broken link %s", rel, l.line, why))
			}
		}
	}
	return problems, checked
}

// TestLinksResolve checks every relative link and #anchor in every Markdown
// file of the repository, offline.
func TestLinksResolve(t *testing.T) {
	r := loadRepo(t)
	problems, checked := r.brokenLinks()
	report(t, problems)
	t.Logf("%d Markdown files, %d relative links checked", len(r.files), checked)
}

// localFetcher gives embedmd files from the repository only: a directive
// that names a URL would need the network, and one that leaves the
// repository would depend on the machine.
type localFetcher struct{ root string }

func (l localFetcher) Fetch(dir, p string) ([]byte, error) {
	if isExternal(p) {
		return nil, errors.New("only files inside the repository may be embedded (no URLs)")
	}
	full := filepath.Join(dir, filepath.FromSlash(p))
	rel, err := filepath.Rel(l.root, full)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return nil, fmt.Errorf("%s is outside the repository", p)
	}
	return os.ReadFile(full)
}

// TestEmbeddedCodeMatchesSource runs embedmd over every Markdown file with
// embedmd directives and fails when a code block differs from the lines it
// was pulled from, as `go tool embedmd -d` would.
func TestEmbeddedCodeMatchesSource(t *testing.T) {
	r := loadRepo(t)
	problems, n := r.embedDrift()
	report(t, problems)
	t.Logf("%d Markdown files with embedmd directives", n)
}

// embedDrift returns the Markdown files whose embedded code differs from
// its source, and how many files have embedmd directives.
func (r *repo) embedDrift() (problems []string, n int) {
	for _, rel := range r.files {
		f := r.md[rel]
		if !hasDirective(f) {
			continue
		}
		n++
		d, err := embedDiff(r.root, rel, f.raw)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: embedmd: %v", rel, err))
		} else if d != "" {
			problems = append(problems, fmt.Sprintf("%s: code blocks differ from their sources; run `go tool embedmd -w %s`\n%s", rel, rel, d))
		}
	}
	return problems, n
}

// embedDiff runs embedmd over raw, the text of the Markdown file rel under
// root, and returns a unified diff from raw to embedmd's output ("" when
// every block matches its source).
func embedDiff(root, rel, raw string) (string, error) {
	full := filepath.Join(root, filepath.FromSlash(rel))
	var out bytes.Buffer
	err := embedmd.Process(&out, strings.NewReader(raw),
		embedmd.WithBaseDir(filepath.Dir(full)), embedmd.WithFetcher(localFetcher{root}))
	if err != nil {
		return "", err
	}
	if out.String() == raw {
		return "", nil
	}
	d, err := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
		A: difflib.SplitLines(raw), B: difflib.SplitLines(out.String()),
		FromFile: rel + " (as committed)", ToFile: rel + " (from the sources)", Context: 2,
	})
	if d == "" && err == nil {
		d = "(the files differ in line endings or the final newline)"
	}
	return d, err
}

// hasDirective reports whether f has an embedmd directive outside code.
func hasDirective(f *mdFile) bool {
	for line := range strings.SplitSeq(f.noFence, "\n") {
		if strings.HasPrefix(line, "[embedmd]:#") {
			return true
		}
	}
	return false
}

// codeLangs are the fence languages that must be pulled from a source file.
var codeLangs = map[string]bool{
	"go": true, "golang": true,
	"js": true, "javascript": true, "mjs": true, "cjs": true, "jsx": true,
	"ts": true, "typescript": true,
	"html": true, "htm": true,
}

// mustEmbed reports whether the file's Go/JS/HTML blocks must be embedded:
// the course pages in docs/ and the step READMEs.
func mustEmbed(rel string) bool {
	if strings.HasPrefix(rel, "docs/") {
		return true
	}
	parts := strings.Split(rel, "/")
	return len(parts) == 3 && parts[0] == "steps" && parts[2] == "README.md"
}

// TestNoPastedCode fails when a Go, JavaScript or HTML code block in docs/
// or a step README is not pulled from a source file by embedmd.
func TestNoPastedCode(t *testing.T) {
	r := loadRepo(t)
	problems, blocks := r.pastedCode()
	report(t, problems)
	t.Logf("%d Go/JS/HTML blocks in docs/ and step READMEs", blocks)
}

// pastedCode returns the Go, JavaScript and HTML blocks of docs/ and the
// step READMEs that embedmd does not fill, and how many such blocks there
// are.
func (r *repo) pastedCode() (problems []string, blocks int) {
	for _, rel := range r.files {
		if !mustEmbed(rel) {
			continue
		}
		for _, fc := range r.md[rel].fences {
			if !codeLangs[fc.lang] {
				continue
			}
			blocks++
			switch {
			case fc.marker != "```":
				problems = append(problems, fmt.Sprintf("%s:%d: %s block fenced with %q: embedmd only fills ``` blocks",
					rel, fc.line, fc.lang, fc.marker))
			case !strings.HasPrefix(fc.open, "```"):
				// embedmd reads lines: a fence inside a list or a quote
				// is not one to it.
				problems = append(problems, fmt.Sprintf("%s:%d: %s block is indented (in a list or a quote?): "+
					"embedmd only fills ``` blocks that start the line", rel, fc.line, fc.lang))
			case !strings.HasPrefix(fc.prev, "[embedmd]:#"):
				problems = append(problems, fmt.Sprintf("%s:%d: %s code block is pasted; pull it from the source with an embedmd directive on the line above, "+
					"for example [embedmd]:# (../steps/NN-name/main.go /func newServer/ /^}/)", rel, fc.line, fc.lang))
			}
		}
	}
	return problems, blocks
}

// staleRule is a claim that was true once and is not any more.
type staleRule struct {
	// re finds the claim.
	re *regexp.Regexp
	// why says what is true now.
	why string
	// inCode applies the rule to fenced code (commands) instead of prose.
	inCode bool
	// negatable lets a sentence that denies or dates the claim pass, as in
	// "ücretsiz dyno yok" or "28 Kasım 2022'den beri ücretsiz dyno kalmadı".
	negatable bool
}

var staleRules = []staleRule{
	{
		re:        regexp.MustCompile(`(?i)(ücretsiz|bedava|parasız|\bfree)\P{L}+(\p{L}+\P{L}+)?(dyno|heroku|hosting|barındırma|tier|katman|plan)|(heroku|dyno)\p{L}*'?\p{L}*\P{L}+(\p{L}+\P{L}+)?(ücretsiz|bedava|parasız|free\b)`),
		why:       "Heroku has had no free dynos since 2022-11-28 (Eco about $5/month, Basic about $7/month)",
		negatable: true,
	},
	{
		re:        regexp.MustCompile(`(?i)\bhobby\b`),
		why:       "Heroku's Hobby dynos were replaced by Basic on 2022-11-28",
		negatable: true,
	},
	{
		re:        regexp.MustCompile(`BUILDPACK_URL`),
		why:       "BUILDPACK_URL is obsolete; app.json lists buildpacks (heroku/go)",
		negatable: true,
	},
	{
		// Cedar alone is the name of Heroku's current generation (Eco and
		// Basic dynos run on it); the stacks cedar-10 and cedar-14 are gone.
		re:        regexp.MustCompile(`(?i)\b(cedar-\d+|heroku-(16|18|20))\b`),
		why:       "that Heroku stack is retired; the app uses heroku-24",
		negatable: true,
	},
	{
		re:        regexp.MustCompile(`(?i)\b(godeps|govendor)\b`),
		why:       "the Go buildpack reads go.mod; Godeps and govendor are gone",
		negatable: true,
	},
	{
		re:        regexp.MustCompile(`(?i)heroku redis`),
		why:       "Heroku Redis is called Heroku Key-Value Store since 2024",
		negatable: true,
	},
	{
		re:        regexp.MustCompile(`(?i)(cdn\.socket\.io|cdnjs\.cloudflare\.com/ajax/libs/socket\.io|unpkg\.com/socket\.io|cdn\.jsdelivr\.net/npm/socket\.io)`),
		why:       "a CDN serves today's socket.io-client 4.x, which cannot talk to go-socket.io v1.7.0; the server serves its pinned 2.5.0 copy",
		negatable: true,
	},
	{
		re:     regexp.MustCompile(`\bnpm\s+(?:i|install|add)\b[^\n]*\bsocket\.io-client(?:\s|$)`),
		why:    "an unpinned socket.io-client is 4.x, which cannot talk to go-socket.io v1.7.0: pin socket.io-client@2.5.0",
		inCode: true,
	},
}

var (
	negationRE = regexp.MustCompile(`(?i)(\byok|\beski|değil|kalktı|kaldırıl|kaldırdı|sona er|\bbitti|kalmadı|yerini|eski ad|eskiden|\b2022\b|no longer|\bnot\b|\bno\b|n't\b|` +
		`\p{L}m[ıiuü]yor|\p{L}m[ae]z\b|\p{L}m[ae]d[ıi]|\p{L}m[ae]y[ıi]n|\p{L}m[ae]m[ae]l[ıi]|key-value)`)
	unitBreakRE = regexp.MustCompile(`[.!?](?:\s|$)`)
)

// sentenceAt returns the sentence of text around byte offset off, within
// its block: a block ends at a blank line, and a list item, table row,
// heading or quote starts a new one.
func sentenceAt(text string, off int) string {
	start := strings.LastIndexByte(text[:off], '\n') + 1
	for start > 0 && !newBlock(lineAt(text, start)) {
		prev := strings.LastIndexByte(text[:start-1], '\n') + 1
		if strings.TrimSpace(text[prev:start-1]) == "" {
			break
		}
		start = prev
	}
	end := len(text)
	if i := strings.IndexByte(text[off:], '\n'); i >= 0 {
		end = off + i
	}
	for end < len(text) {
		next := lineAt(text, end+1)
		if strings.TrimSpace(next) == "" || newBlock(next) {
			break
		}
		end += 1 + len(next)
	}
	block, at := text[start:end], off-start
	from, to := 0, len(block)
	for _, m := range unitBreakRE.FindAllStringIndex(block, -1) {
		if m[1] <= at {
			from = m[1]
		} else if m[0] >= at {
			to = m[0]
			break
		}
	}
	return block[from:to]
}

var blockStartRE = regexp.MustCompile(`^\s*([-*+]\s|\d+[.)]\s|#|\||>)`)

func newBlock(line string) bool { return blockStartRE.MatchString(line) }

// staleIn returns the stale claims in a Markdown file, as "line: why".
func staleIn(f *mdFile) []string {
	var found []string
	for _, rule := range staleRules {
		if rule.inCode {
			for _, fc := range f.fences {
				for i, line := range strings.Split(fc.body, "\n") {
					if rule.re.MatchString(line) {
						found = append(found, fmt.Sprintf("%d: %q: %s", fc.line+1+i, strings.TrimSpace(line), rule.why))
					}
				}
			}
			continue
		}
		for _, m := range rule.re.FindAllStringIndex(f.noFence, -1) {
			s := sentenceAt(f.noFence, m[0])
			if rule.negatable && negationRE.MatchString(s) {
				continue
			}
			found = append(found, fmt.Sprintf("%d: %q: %s", lineOf(f.noFence, m[0]),
				strings.Join(strings.Fields(s), " "), rule.why))
		}
	}
	return found
}

// TestNoStaleFacts fails when a Markdown file repeats a claim that is no
// longer true, such as free Heroku dynos.
func TestNoStaleFacts(t *testing.T) {
	report(t, loadRepo(t).staleFacts())
}

// staleFacts returns the stale claims of every Markdown file.
func (r *repo) staleFacts() []string {
	var problems []string
	for _, rel := range r.files {
		for _, s := range staleIn(r.md[rel]) {
			problems = append(problems, rel+":"+s)
		}
	}
	return problems
}

// TestDocsReachableFromReadme checks that every course page in docs/ can be
// reached from the front page by following relative links.
func TestDocsReachableFromReadme(t *testing.T) {
	report(t, loadRepo(t).unreachableDocs())
}

// unreachableDocs returns the course pages in docs/ that no chain of
// relative links leads to from README.md.
func (r *repo) unreachableDocs() []string {
	if _, ok := r.md["README.md"]; !ok {
		return []string{"README.md (the front page) is missing"}
	}
	reached := map[string]bool{}
	queue := []string{"README.md"}
	for len(queue) > 0 {
		rel := queue[0]
		queue = queue[1:]
		if reached[rel] {
			continue
		}
		reached[rel] = true
		f, ok := r.md[rel]
		if !ok {
			continue
		}
		for _, l := range f.links {
			if isExternal(l.target) {
				continue
			}
			p, _, _, err := splitTarget(path.Dir(rel), l.target)
			if err != nil || p == "" {
				continue
			}
			if !strings.HasSuffix(p, ".md") {
				p = path.Join(p, "README.md")
			}
			queue = append(queue, p)
		}
	}
	var problems []string
	for _, rel := range r.files {
		if strings.HasPrefix(rel, "docs/") && !reached[rel] {
			problems = append(problems, rel+" cannot be reached by links from README.md; link it from docs/README.md")
		}
	}
	return problems
}

// avoidedTerm is a translation the glossary tells us not to use.
type avoidedTerm struct {
	word, instead string
	re            *regexp.Regexp
}

// avoidedTerms reads the table under "## Kullanmadığımız karşılıklar" in
// the glossary: first column the avoided word, second the one to use.
func avoidedTerms(glossary *mdFile) []avoidedTerm {
	var terms []avoidedTerm
	for _, tbl := range glossary.tables {
		if tbl.heading != "Kullanmadığımız karşılıklar" {
			continue
		}
		for _, cells := range tbl.rows {
			if len(cells) < 2 || cells[0] == "" {
				continue
			}
			// A cell may list several forms: "deploy etmek / deploy edilen".
			// A single form is a stem and also matches its inflections
			// ("müşteri" matches "müşteriler"); listed forms match only as
			// whole words, so that "ileti" does not catch "iletişim" or the
			// verb "iletilir".
			forms := strings.Split(cells[0], " / ")
			end := ""
			if len(forms) > 1 {
				end = `(?:$|[^\p{L}])`
			}
			for _, word := range forms {
				word = strings.TrimSpace(word)
				words := strings.Fields(turkishLower(word))
				for i, w := range words {
					words[i] = regexp.QuoteMeta(w)
				}
				terms = append(terms, avoidedTerm{
					word:    word,
					instead: cells[1],
					re:      regexp.MustCompile(`(?:^|[^\p{L}])(` + strings.Join(words, `\s+`) + `)` + end),
				})
			}
		}
	}
	return terms
}

// turkishLower lower-cases s with Turkish rules (I -> ı, İ -> i).
func turkishLower(s string) string { return strings.ToLowerSpecial(unicode.TurkishCase, s) }

// TestGlossaryTermsUsedConsistently fails when the docs, the step READMEs or
// the steps' code (comments, log lines, page labels) use a translation the
// glossary lists as avoided.
func TestGlossaryTermsUsedConsistently(t *testing.T) {
	r := loadRepo(t)
	problems, terms, files, err := r.avoidedTermsUsed()
	if err != nil {
		t.Fatal(err)
	}
	report(t, problems)
	t.Logf("%d avoided terms checked in %d files", terms, files)
}

// glossaryPath is the glossary; its table under "Kullanmadığımız
// karşılıklar" lists the avoided terms.
const glossaryPath = "docs/07-sozluk.md"

// avoidedTermsUsed returns the places where the docs, the step READMEs or
// the steps' code use a term the glossary lists as avoided, with the
// number of terms and of files checked. The error says the glossary or
// its table is missing.
func (r *repo) avoidedTermsUsed() (problems []string, terms, files int, err error) {
	glossary, ok := r.md[glossaryPath]
	if !ok {
		return nil, 0, 0, fmt.Errorf("%s is missing", glossaryPath)
	}
	avoided := avoidedTerms(glossary)
	if len(avoided) == 0 {
		return nil, 0, 0, fmt.Errorf("%s has no table under \"## Kullanmadığımız karşılıklar\"", glossaryPath)
	}
	texts := map[string]string{}
	for _, rel := range r.files {
		if rel != glossaryPath && turkishFile(rel) {
			f := r.md[rel]
			texts[rel] = f.raw[:f.english]
		}
	}
	err = filepath.WalkDir(filepath.Join(r.root, "steps"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if ext := filepath.Ext(p); ext == ".go" || ext == ".html" || ext == ".js" {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(r.root, p)
			texts[filepath.ToSlash(rel)] = string(b)
		}
		return nil
	})
	if err != nil {
		return nil, 0, 0, err
	}
	for _, rel := range sortedKeys(toSet(texts)) {
		lower := turkishLower(texts[rel])
		for _, term := range avoided {
			for _, m := range term.re.FindAllStringSubmatchIndex(lower, -1) {
				problems = append(problems, fmt.Sprintf("%s:%d: %q: the glossary (%s) says %q", rel, lineOf(lower, m[2]),
					lower[m[2]:m[3]], glossaryPath, term.instead))
			}
		}
	}
	return problems, len(avoided), len(texts), nil
}

func toSet(m map[string]string) map[string]bool {
	s := make(map[string]bool, len(m))
	for k := range m {
		s[k] = true
	}
	return s
}

// asciiTurkish lists common Turkish word stems as they look when typed
// without Turkish letters ("icin" for "için"). Prose must use the letters.
var asciiTurkish = map[string]string{
	"icin": "için", "degil": "değil", "baglan": "bağlan", "gonder": "gönder",
	"goster": "göster", "olustur": "oluştur", "calis": "çalış", "kullanici": "kullanıcı",
	"ogren": "öğren", "ozellik": "özellik", "acik": "açık", "yukle": "yükle",
	"guncel": "güncel", "surum": "sürüm", "sozluk": "sözlük", "dugme": "düğme",
	"cunku": "çünkü", "boyle": "böyle", "soyle": "şöyle", "simdi": "şimdi",
	"mesajlari": "mesajları", "sayfayi": "sayfayı",
}

var wordRE = regexp.MustCompile(`\p{L}+`)

// asciiTurkishIn returns the words of prose typed without Turkish letters.
func asciiTurkishIn(prose string) []string {
	var found []string
	for _, loc := range wordRE.FindAllStringIndex(prose, -1) {
		w := strings.ToLower(prose[loc[0]:loc[1]]) // ASCII typing: I is i
		for stem, want := range asciiTurkish {
			if stem != want && strings.HasPrefix(w, stem) && (stem != "icin" || w == stem) {
				found = append(found, fmt.Sprintf("%d: %q (%s…)", lineOf(prose, loc[0]), w, want))
			}
		}
	}
	return found
}

// TestTurkishLetters fails when the prose of docs/ or a step README spells
// a Turkish word without its letters (ç ğ ı İ ö ş ü).
func TestTurkishLetters(t *testing.T) {
	report(t, loadRepo(t).asciiTurkish())
}

// asciiTurkish returns the words of docs/ and the step READMEs typed
// without Turkish letters.
func (r *repo) asciiTurkish() []string {
	var problems []string
	for _, rel := range r.files {
		if !mustEmbed(rel) {
			continue
		}
		for _, f := range asciiTurkishIn(r.md[rel].prose) {
			problems = append(problems, rel+":"+f)
		}
	}
	return problems
}
