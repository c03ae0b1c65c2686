package checkdocs

// This file holds the small Markdown reader the checks share. It knows just
// enough CommonMark for links, headings and fenced code: it is not a renderer.

import (
	"fmt"
	"net/url"
	"os"
	"path"
	"regexp"
	"strings"
	"unicode"
)

// mdFile is one Markdown file, read and split into the views the checks need.
type mdFile struct {
	// rel is the file's slash-separated path from the repository root.
	rel string
	// raw is the file's text as stored.
	raw string
	// noFence is raw with fenced code blocks and HTML comments blanked out
	// (newlines kept, so offsets map to the same line numbers).
	noFence string
	// prose is noFence with inline code spans blanked out too.
	prose string
	// fences lists the fenced code blocks in order.
	fences []fence
}

// fence is one fenced code block.
type fence struct {
	// line is the 1-based line number of the opening fence.
	line int
	// marker is the fence characters, for example "```" or "~~~~".
	marker string
	// lang is the first word of the info string, lower-cased.
	lang string
	// prev is the line just before the opening fence ("" at the top).
	prev string
	// body is the text between the fences.
	body string
}

var (
	fenceOpenRE = regexp.MustCompile("^ {0,3}(`{3,}|~{3,})(.*)$")
	commentRE   = regexp.MustCompile(`(?s)<!--.*?-->`)
)

// parseMarkdown reads the views of a Markdown text.
func parseMarkdown(rel, raw string) *mdFile {
	f := &mdFile{rel: rel, raw: raw}
	lines := strings.SplitAfter(raw, "\n")
	var out strings.Builder
	var open *fence
	var body strings.Builder
	for i, line := range lines {
		text := strings.TrimRight(line, "\r\n")
		if open != nil {
			if isFenceClose(text, open.marker) {
				open.body = body.String()
				f.fences = append(f.fences, *open)
				open = nil
			} else {
				body.WriteString(line)
			}
			out.WriteString(blank(line))
			continue
		}
		if m := fenceOpenRE.FindStringSubmatch(text); m != nil &&
			!(m[1][0] == '`' && strings.Contains(m[2], "`")) {
			prev := ""
			if i > 0 {
				prev = strings.TrimRight(lines[i-1], "\r\n")
			}
			lang := ""
			if w := strings.Fields(m[2]); len(w) > 0 {
				lang = strings.ToLower(w[0])
			}
			open = &fence{line: i + 1, marker: m[1], lang: lang, prev: prev}
			body.Reset()
			out.WriteString(blank(line))
			continue
		}
		out.WriteString(line)
	}
	if open != nil { // An unclosed fence runs to the end of the file.
		open.body = body.String()
		f.fences = append(f.fences, *open)
	}
	f.noFence = commentRE.ReplaceAllStringFunc(out.String(), blank)
	f.prose = blankCodeSpans(f.noFence)
	return f
}

// isFenceClose reports whether line closes a fence opened with marker.
func isFenceClose(line, marker string) bool {
	t := strings.TrimLeft(line, " ")
	if len(line)-len(t) > 3 {
		return false
	}
	t = strings.TrimRight(t, " \t")
	return len(t) >= len(marker) && strings.Trim(t, marker[:1]) == ""
}

// blank replaces every character of s except newlines with a space.
func blank(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\n' {
			return '\n'
		}
		return ' '
	}, s)
}

// blankCodeSpans blanks inline code spans: a run of n backticks up to the
// next run of exactly n backticks.
func blankCodeSpans(s string) string {
	b := []byte(s)
	run := func(i int) int {
		j := i
		for j < len(b) && b[j] == '`' {
			j++
		}
		return j - i
	}
	for i := 0; i < len(b); {
		if b[i] != '`' {
			i++
			continue
		}
		n := run(i)
		closed := false
		for j := i + n; j < len(b); {
			if b[j] != '`' {
				j++
				continue
			}
			m := run(j)
			if m == n {
				for k := i; k < j+m; k++ {
					if b[k] != '\n' {
						b[k] = ' '
					}
				}
				i, closed = j+m, true
				break
			}
			j += m
		}
		if !closed {
			i += n
		}
	}
	return string(b)
}

// lineOf returns the 1-based line number of byte offset off in s.
func lineOf(s string, off int) int {
	return strings.Count(s[:off], "\n") + 1
}

// heading is one heading and the anchor GitHub gives it.
type heading struct {
	line   int
	text   string
	anchor string
}

var (
	atxRE    = regexp.MustCompile(`^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$`)
	setextRE = regexp.MustCompile(`^ {0,3}(=+|-+)[ \t]*$`)
	htmlIDRE = regexp.MustCompile(`(?i)<[a-z][^>]*?\s(?:id|name)\s*=\s*["']([^"']+)["']`)
)

// headings lists the file's headings with GitHub's anchors, duplicates
// numbered as GitHub does ("a", "a-1", "a-2").
func (f *mdFile) headings() []heading {
	var hs []heading
	// occurrences follows github-slugger: a taken slug gets "-1", "-2", ...
	occurrences := map[string]int{}
	add := func(line int, text string) {
		base := slug(text)
		a := base
		for {
			if _, taken := occurrences[a]; !taken {
				break
			}
			occurrences[base]++
			a = fmt.Sprintf("%s-%d", base, occurrences[base])
		}
		occurrences[a] = 0
		hs = append(hs, heading{line: line, text: text, anchor: a})
	}
	lines := strings.Split(f.noFence, "\n")
	for i, line := range lines {
		if m := atxRE.FindStringSubmatch(line); m != nil {
			add(i+1, strings.TrimSpace(m[2]))
			continue
		}
		if i > 0 && setextRE.MatchString(line) {
			prev := strings.TrimSpace(lines[i-1])
			if prev == "" || atxRE.MatchString(lines[i-1]) || strings.HasPrefix(prev, "|") ||
				strings.HasPrefix(prev, "-") || strings.HasPrefix(prev, "*") ||
				strings.HasPrefix(prev, ">") || setextRE.MatchString(lines[i-1]) {
				continue
			}
			add(i, prev)
		}
	}
	return hs
}

// anchors returns every anchor a link into this file may name: heading
// slugs and explicit id or name attributes in HTML.
func (f *mdFile) anchors() map[string]bool {
	a := map[string]bool{}
	for _, h := range f.headings() {
		a[h.anchor] = true
	}
	for _, m := range htmlIDRE.FindAllStringSubmatch(f.prose, -1) {
		a[m[1]] = true
	}
	return a
}

var (
	imageRE    = regexp.MustCompile(`!\[([^\]]*)\]\([^)]*\)`)
	linkTextRE = regexp.MustCompile(`\[([^\]]*)\]\([^)]*\)`)
	refTextRE  = regexp.MustCompile(`\[([^\]]*)\]\[[^\]]*\]`)
	tagRE      = regexp.MustCompile(`<[^>]*>`)
	emphRE     = regexp.MustCompile(`(^|[\s(])(?:\*+|_+)|(?:\*+|_+)($|[\s).,:;!?])`)
)

// slug turns a heading's Markdown text into the anchor GitHub generates:
// render the inline Markdown to text, lower-case it as JavaScript does
// (so "İ" becomes "i" plus a combining dot above, U+0307), drop everything
// that is not a letter, mark, number, connector, space or hyphen, and turn
// spaces into hyphens. Turkish letters (ç ğ ı ö ş ü) stay as they are.
func slug(text string) string {
	text = imageRE.ReplaceAllString(text, "$1")
	text = linkTextRE.ReplaceAllString(text, "$1")
	text = refTextRE.ReplaceAllString(text, "$1")
	text = tagRE.ReplaceAllString(text, "")
	text = strings.ReplaceAll(text, "`", "")
	text = emphRE.ReplaceAllString(text, "$1$2")
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

// link is one link found in a Markdown file.
type link struct {
	line   int
	target string
}

var (
	refDefRE  = regexp.MustCompile(`(?m)^ {0,3}\[([^\]]+)\]:[ \t]*(<[^>]*>|\S+)`)
	refUseRE  = regexp.MustCompile(`\]\[([^\]]+)\]`)
	htmlURLRE = regexp.MustCompile(`(?i)\s(?:href|src)\s*=\s*(?:"([^"]*)"|'([^']*)')`)
	schemeRE  = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9+.-]*:`)
)

// links returns the link targets of the file: inline links and images,
// reference definitions and HTML href/src attributes, outside code. It also
// returns full reference links whose label has no definition.
func (f *mdFile) links() (links []link, undefined []link) {
	s := f.prose
	for i := strings.Index(s, "]("); i >= 0; {
		start := i + 2
		if dest, ok := parseDest(s[start:]); ok {
			links = append(links, link{line: lineOf(s, start), target: dest})
		}
		next := strings.Index(s[start:], "](")
		if next < 0 {
			break
		}
		i = start + next
	}
	defs := map[string]bool{}
	for _, m := range refDefRE.FindAllStringSubmatchIndex(s, -1) {
		label := normLabel(s[m[2]:m[3]])
		target := strings.Trim(s[m[4]:m[5]], "<>")
		defs[label] = true
		if label == "embedmd" || label == "//" || target == "#" {
			continue // embedmd directives and comments, checked elsewhere
		}
		links = append(links, link{line: lineOf(s, m[0]), target: target})
	}
	for _, m := range refUseRE.FindAllStringSubmatchIndex(s, -1) {
		if label := normLabel(s[m[2]:m[3]]); !defs[label] {
			undefined = append(undefined, link{line: lineOf(s, m[0]), target: s[m[2]:m[3]]})
		}
	}
	for _, m := range htmlURLRE.FindAllStringSubmatchIndex(s, -1) {
		var t string
		if m[2] >= 0 {
			t = s[m[2]:m[3]]
		} else {
			t = s[m[4]:m[5]]
		}
		links = append(links, link{line: lineOf(s, m[0]), target: t})
	}
	return links, undefined
}

// normLabel folds a reference label as CommonMark does.
func normLabel(s string) string {
	return strings.ToLower(strings.Join(strings.Fields(s), " "))
}

// parseDest reads an inline link destination at the start of s (just after
// "]("): either <...> or a run without spaces and with balanced parentheses.
func parseDest(s string) (string, bool) {
	s = strings.TrimLeft(s, " \t")
	if strings.HasPrefix(s, "<") {
		end := strings.IndexAny(s, ">\n")
		if end < 0 || s[end] != '>' {
			return "", false
		}
		return s[1:end], true
	}
	depth := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' && i+1 < len(s):
			i++
		case c == '(':
			depth++
		case c == ')':
			if depth == 0 {
				return s[:i], true
			}
			depth--
		case c == ' ' || c == '\t' || c == '\n':
			return s[:i], depth == 0
		}
	}
	return "", false
}

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
