package checkdocs

// This file reads Markdown with goldmark, set up as GitHub renders it
// (tables, bare URLs as links, footnotes), and turns each file into the
// views the checks share. Every view keeps the file's byte offsets, so a
// match in any of them maps back to a line of the file.

import (
	"fmt"
	"html"
	"net/url"
	"os"
	"path"
	"regexp"
	"strings"
	"unicode"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	extast "github.com/yuin/goldmark/extension/ast"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// gfm parses Markdown the way GitHub does, as far as the checks can tell.
var gfm = goldmark.New(goldmark.WithExtensions(extension.GFM, extension.Footnote))

// mdFile is one Markdown file, read and split into the views the checks need.
type mdFile struct {
	// rel is the file's slash-separated path from the repository root.
	rel string
	// raw is the file's text as stored.
	raw string
	// noFence is raw with fenced code blocks and HTML comments blanked out
	// (newlines kept): the text the stale-fact rules and embedmd read.
	noFence string
	// prose is the text a reader reads, every other byte blanked: text
	// outside code blocks, code spans, HTML tags and comments, link
	// destinations and reference definitions.
	prose string
	// fences lists the fenced code blocks in order.
	fences []fence
	// headings lists the headings in order, with GitHub's anchors.
	headings []heading
	// htmlIDs lists the id and name attributes of the file's HTML.
	htmlIDs []string
	// links lists the link targets, in order.
	links []link
	// undefined lists full reference links ([text][label]) whose label has
	// no definition; target holds the label.
	undefined []link
	// tables lists the tables, with the heading each one sits under.
	tables []table
	// breaks lists the byte offsets of the thematic breaks (---), in order;
	// the footer of a page is what follows the last one.
	breaks []int
	// codeEnds lists the byte offsets just after each code span's closing
	// backticks, where a suffix would stick to the code (`Emit`'i).
	codeEnds []int
	// english is the offset of the first heading "In English", where the
	// Turkish rules stop; the file's length when it has none.
	english int
}

// fence is one fenced code block.
type fence struct {
	// line is the 1-based line number of the opening fence.
	line int
	// open is the opening fence's line as written.
	open string
	// marker is the fence characters, for example "```" or "~~~~".
	marker string
	// lang is the first word of the info string, lower-cased.
	lang string
	// prev is the line just before the opening fence ("" at the top).
	prev string
	// body is the text between the fences, without the indentation of
	// the list item or quote that holds it.
	body string
}

// heading is one heading and the anchor GitHub gives it.
type heading struct {
	line int
	// off is the heading's byte offset in the file.
	off int
	// text is the heading as rendered: markup dropped, code and link
	// texts kept.
	text   string
	anchor string
}

// link is one link found in a Markdown file.
type link struct {
	line   int
	target string
	// off is the link's byte offset in the file (0 for an undefined
	// reference).
	off int
	// block tells which list or table holds the link: links with the
	// same non-zero block sit in one list or table.
	block int
}

// table is one table: the heading above it and its body rows (the header
// row left out), each cell as rendered text, with the links of each row.
type table struct {
	heading string
	rows    [][]string
	links   [][]link
}

var (
	commentRE = regexp.MustCompile(`(?s)<!--.*?-->`)
	tagRE     = regexp.MustCompile(`<[^>]*>`)
	htmlIDRE  = regexp.MustCompile(`(?i)<[a-z][^>]*?\s(?:id|name)\s*=\s*["']([^"']+)["']`)
	htmlURLRE = regexp.MustCompile(`(?i)\s(?:href|src)\s*=\s*(?:"([^"]*)"|'([^']*)')`)
	// refUseRE finds a full reference link in prose: goldmark leaves one
	// whose label has no definition as plain text.
	refUseRE = regexp.MustCompile(`\]\[([^\]]+)\]`)
)

// mdReader holds the state of one parseMarkdown call.
type mdReader struct {
	f       *mdFile
	src     []byte
	noFence []byte
	prose   []byte
	// section is the text of the last heading seen.
	section string
	// defs holds the normalized labels of the reference definitions.
	defs map[string]bool
	// blocks numbers the lists and tables that hold links.
	blocks map[ast.Node]int
}

// parseMarkdown reads the views of a Markdown text.
func parseMarkdown(rel, raw string) *mdFile {
	r := &mdReader{
		f:       &mdFile{rel: rel, raw: raw},
		src:     []byte(raw),
		noFence: []byte(raw),
		prose:   []byte(blank(raw)),
		defs:    map[string]bool{},
		blocks:  map[ast.Node]int{},
	}
	r.f.english = len(raw)
	doc := gfm.Parser().Parse(text.NewReader(r.src))
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		return r.visit(n), nil // visit fails on nothing
	})
	r.f.noFence, r.f.prose = string(r.noFence), string(r.prose)
	numberHeadings(r.f.headings)
	for _, m := range refUseRE.FindAllStringSubmatchIndex(r.f.prose, -1) {
		label := r.f.prose[m[2]:m[3]]
		if !r.defs[normLabel(label)] {
			r.f.undefined = append(r.f.undefined, link{line: lineOf(raw, m[0]), target: label})
		}
	}
	return r.f
}

// visit records what node n adds to the views and says whether to walk
// into its children.
func (r *mdReader) visit(n ast.Node) ast.WalkStatus {
	f := r.f
	switch n := n.(type) {
	case *ast.FencedCodeBlock:
		r.addFence(n)
		return ast.WalkSkipChildren
	case *ast.CodeSpan:
		r.addCodeEnd(n)
		return ast.WalkSkipChildren // code, not prose
	case *ast.CodeBlock:
		return ast.WalkSkipChildren // code, not prose
	case *ast.ThematicBreak:
		f.breaks = append(f.breaks, n.Pos())
	case *ast.Text:
		copy(r.prose[n.Segment.Start:n.Segment.Stop], r.src[n.Segment.Start:n.Segment.Stop])
	case *ast.Heading:
		r.section = plainText(n, r.src)
		f.headings = append(f.headings, heading{line: lineOf(f.raw, n.Pos()), off: n.Pos(), text: r.section})
		if r.section == "In English" && f.english == len(f.raw) {
			f.english = n.Pos()
		}
	case *ast.Link:
		if n.Reference == nil { // a reference link is checked at its definition
			f.links = append(f.links, link{line: lineOf(f.raw, n.Pos()), target: string(n.Destination), off: n.Pos(), block: r.blockOf(n)})
		}
	case *ast.Image:
		if n.Reference == nil {
			f.links = append(f.links, link{line: lineOf(f.raw, n.Pos()), target: string(n.Destination)})
		}
	case *ast.AutoLink:
		f.links = append(f.links, link{line: lineOf(f.raw, n.Pos()), target: string(n.URL(r.src))})
		return ast.WalkSkipChildren
	case *ast.LinkReferenceDefinition:
		label := normLabel(string(n.Label))
		r.defs[label] = true
		if label != "embedmd" && label != "//" && string(n.Destination) != "#" {
			// embedmd directives and [//]: # comments are no links
			f.links = append(f.links, link{line: lineOf(f.raw, n.Pos()), target: string(n.Destination)})
		}
		return ast.WalkSkipChildren
	case *ast.HTMLBlock:
		segs := n.Lines().Sliced(0, n.Lines().Len())
		if n.HasClosure() {
			segs = append(segs, n.ClosureLine)
		}
		r.addHTML(segs, n.HTMLBlockType == ast.HTMLBlockType6 || n.HTMLBlockType == ast.HTMLBlockType7)
		return ast.WalkSkipChildren
	case *ast.RawHTML:
		r.addHTML(n.Segments.Sliced(0, n.Segments.Len()), false)
		return ast.WalkSkipChildren
	case *extast.Table:
		f.tables = append(f.tables, table{heading: r.section})
	case *extast.TableRow:
		var cells []string
		for c := n.FirstChild(); c != nil; c = c.NextSibling() {
			cells = append(cells, plainText(c, r.src))
		}
		t := &f.tables[len(f.tables)-1]
		t.rows = append(t.rows, cells)
		var links []link
		_ = ast.Walk(n, func(c ast.Node, entering bool) (ast.WalkStatus, error) {
			if l, ok := c.(*ast.Link); ok && entering && l.Reference == nil {
				links = append(links, link{line: lineOf(f.raw, l.Pos()), target: string(l.Destination), off: l.Pos()})
			}
			return ast.WalkContinue, nil
		})
		t.links = append(t.links, links)
	}
	return ast.WalkContinue
}

// blockOf numbers the list or table that holds n (0 when none does).
func (r *mdReader) blockOf(n ast.Node) int {
	for p := n.Parent(); p != nil; p = p.Parent() {
		switch p.(type) {
		case *ast.List, *extast.Table:
			id, ok := r.blocks[p]
			if !ok {
				id = len(r.blocks) + 1
				r.blocks[p] = id
			}
			return id
		}
	}
	return 0
}

// addCodeEnd records where a code span's closing backticks end.
func (r *mdReader) addCodeEnd(n *ast.CodeSpan) {
	end := -1
	for c := n.FirstChild(); c != nil; c = c.NextSibling() {
		if t, ok := c.(*ast.Text); ok && t.Segment.Stop > end {
			end = t.Segment.Stop
		}
	}
	if end < 0 {
		return
	}
	// A span may close with a space before its backticks (`` `x` ``).
	j := end
	for j < len(r.src) && r.src[j] == ' ' {
		j++
	}
	if j < len(r.src) && r.src[j] == '`' {
		end = j
	}
	for end < len(r.src) && r.src[end] == '`' {
		end++
	}
	r.f.codeEnds = append(r.f.codeEnds, end)
}

// addFence records a fenced code block and blanks it, fences included,
// out of noFence.
func (r *mdReader) addFence(n *ast.FencedCodeBlock) {
	raw := r.f.raw
	start := lineStart(raw, n.Pos())
	open := lineAt(raw, start)
	marker := strings.TrimLeft(raw[n.Pos():start+len(open)], " \t")
	marker = marker[:len(marker)-len(strings.TrimLeft(marker, marker[:1]))]
	fc := fence{line: lineOf(raw, start), open: strings.TrimRight(open, "\r"), marker: marker}
	if start > 0 {
		fc.prev = strings.TrimRight(lineAt(raw, lineStart(raw, start-1)), "\r")
	}
	if w := strings.Fields(string(n.Language(r.src))); len(w) > 0 {
		fc.lang = strings.ToLower(w[0])
	}
	end := start + len(open)
	var body strings.Builder
	for _, seg := range n.Lines().Sliced(0, n.Lines().Len()) {
		body.Write(seg.Value(r.src))
		end = seg.Stop
	}
	fc.body = body.String()
	// goldmark does not keep the closing fence; it is the next line, when
	// that line is made of the marker's character only.
	if end < len(raw) {
		next := end
		if raw[end-1] != '\n' {
			next = lineStart(raw, end) + len(lineAt(raw, lineStart(raw, end))) + 1
		}
		if next < len(raw) {
			t := strings.TrimSpace(strings.TrimLeft(lineAt(raw, next), " \t>"))
			if len(t) >= len(marker) && strings.Trim(t, marker[:1]) == "" {
				end = next + len(lineAt(raw, next))
			}
		}
	}
	copy(r.noFence[start:end], blank(raw[start:end]))
	r.f.fences = append(r.f.fences, fc)
}

// addHTML records the link targets and ids of an HTML block or inline tag
// made of segs and blanks its comments out of noFence. When hasText is set
// (a block of ordinary tags, not a comment, <script>, <pre> or <style>),
// the text between its tags goes into prose.
func (r *mdReader) addHTML(segs []text.Segment, hasText bool) {
	if len(segs) == 0 {
		return
	}
	var b strings.Builder
	for _, s := range segs {
		b.Write(r.src[s.Start:s.Stop])
	}
	h := commentRE.ReplaceAllStringFunc(b.String(), blank)
	first := lineOf(r.f.raw, segs[0].Start)
	lineIn := func(off int) int { return first + strings.Count(h[:off], "\n") }
	for _, m := range htmlURLRE.FindAllStringSubmatchIndex(h, -1) {
		t := ""
		if m[2] >= 0 {
			t = h[m[2]:m[3]]
		} else {
			t = h[m[4]:m[5]]
		}
		r.f.links = append(r.f.links, link{line: lineIn(m[0]), target: t})
	}
	for _, m := range htmlIDRE.FindAllStringSubmatch(h, -1) {
		r.f.htmlIDs = append(r.f.htmlIDs, m[1])
	}
	readable := tagRE.ReplaceAllStringFunc(h, blank)
	off := 0
	for _, s := range segs {
		n := s.Stop - s.Start
		copy(r.noFence[s.Start:s.Stop], h[off:off+n])
		if hasText {
			copy(r.prose[s.Start:s.Stop], readable[off:off+n])
		}
		off += n
	}
}

// plainText returns the text of n as GitHub renders it: code and link
// texts kept, markup and raw HTML dropped, escapes and entities resolved.
func plainText(n ast.Node, src []byte) string {
	var b strings.Builder
	_ = ast.Walk(n, func(c ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch c := c.(type) {
		case *ast.CodeSpan:
			for t := c.FirstChild(); t != nil; t = t.NextSibling() {
				if t, ok := t.(*ast.Text); ok {
					b.Write(t.Segment.Value(src))
				}
			}
			return ast.WalkSkipChildren, nil
		case *ast.Text:
			v := util.UnescapePunctuations(c.Segment.Value(src))
			b.WriteString(html.UnescapeString(string(v)))
		case *ast.String:
			b.Write(c.Value)
		case *ast.AutoLink:
			b.Write(c.Label(src))
			return ast.WalkSkipChildren, nil
		case *ast.RawHTML:
			return ast.WalkSkipChildren, nil
		}
		return ast.WalkContinue, nil
	})
	return strings.TrimSpace(b.String())
}

// blank replaces every byte of s except newlines with a space, so that
// offsets into s stay offsets into the result.
func blank(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c != '\n' {
			b[i] = ' '
		}
	}
	return string(b)
}

// lineOf returns the 1-based line number of byte offset off in s.
func lineOf(s string, off int) int {
	return strings.Count(s[:off], "\n") + 1
}

// lineStart returns the offset of the start of the line holding off.
func lineStart(s string, off int) int {
	return strings.LastIndexByte(s[:off], '\n') + 1
}

// lineAt returns the line of text that starts at byte offset i.
func lineAt(text string, i int) string {
	if j := strings.IndexByte(text[i:], '\n'); j >= 0 {
		return text[i : i+j]
	}
	return text[i:]
}

// numberHeadings gives each heading its anchor, duplicates numbered as
// GitHub does ("a", "a-1", "a-2").
func numberHeadings(hs []heading) {
	// occurrences follows github-slugger: a taken slug gets "-1", "-2", ...
	occurrences := map[string]int{}
	for i := range hs {
		base := slug(hs[i].text)
		a := base
		for {
			if _, taken := occurrences[a]; !taken {
				break
			}
			occurrences[base]++
			a = fmt.Sprintf("%s-%d", base, occurrences[base])
		}
		occurrences[a] = 0
		hs[i].anchor = a
	}
}

// anchors returns every anchor a link into this file may name: heading
// slugs and explicit id or name attributes in HTML.
func (f *mdFile) anchors() map[string]bool {
	a := map[string]bool{}
	for _, h := range f.headings {
		a[h.anchor] = true
	}
	for _, id := range f.htmlIDs {
		a[id] = true
	}
	return a
}

// slug turns a heading's rendered text into the anchor GitHub generates:
// lower-case it as JavaScript does (so "İ" becomes "i" plus a combining
// dot above, U+0307), drop everything that is not a letter, mark, number,
// connector, space or hyphen, and turn spaces into hyphens. Turkish
// letters (ç ğ ı ö ş ü) stay as they are.
func slug(text string) string {
	var b strings.Builder
	for _, r := range text {
		switch {
		case r == 'İ': // JavaScript: "İ".toLowerCase() === "i\u0307"
			b.WriteString("i\u0307")
		case r == ' ' || r == '-':
			b.WriteRune(r)
		case unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.Pc):
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return strings.ReplaceAll(b.String(), " ", "-")
}

// normLabel folds a reference label as CommonMark does.
func normLabel(s string) string {
	return strings.ToLower(strings.Join(strings.Fields(s), " "))
}

var schemeRE = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9+.-]*:`)

// isExternal reports whether a link target leaves the repository
// (a scheme such as https: or mailto:, or a protocol-relative //host).
func isExternal(target string) bool {
	return schemeRE.MatchString(target) || strings.HasPrefix(target, "//")
}

// splitTarget splits a relative link target into its decoded path (slash
// separated, resolved against the directory dir of the linking file, or the
// repository root for targets starting with "/") and its decoded fragment.
func splitTarget(dir, target string) (p, frag string, hasFrag bool, err error) {
	if i := strings.IndexByte(target, '#'); i >= 0 {
		frag, hasFrag = target[i+1:], true
		target = target[:i]
		if frag, err = url.PathUnescape(frag); err != nil {
			return "", "", false, err
		}
	}
	if i := strings.IndexByte(target, '?'); i >= 0 {
		target = target[:i]
	}
	if target, err = url.PathUnescape(target); err != nil {
		return "", "", false, err
	}
	switch {
	case target == "":
		p = "" // the linking file itself
	case strings.HasPrefix(target, "/"):
		p = path.Clean(strings.TrimPrefix(target, "/"))
	default:
		p = path.Clean(path.Join(dir, target))
	}
	return p, frag, hasFrag, nil
}

// readMarkdown reads and parses a Markdown file under root.
func readMarkdown(root, rel string) (*mdFile, error) {
	b, err := os.ReadFile(root + "/" + rel)
	if err != nil {
		return nil, err
	}
	return parseMarkdown(rel, string(b)), nil
}
