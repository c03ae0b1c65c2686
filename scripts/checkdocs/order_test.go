package checkdocs

// The reading order: one table in docs/README.md lists every step and
// course page in the order a learner reads them. Each of those pages ends
// with a footer (the text after its last --- line) whose "Önceki" and
// "Sonraki" links follow that table, and the front page lists nothing in
// another order. Adding a row to the table is all it takes to extend the
// order; the check then says which footers must change.

import (
	"fmt"
	"path"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

const (
	// orderPath is the page whose table decides the reading order.
	orderPath = "docs/README.md"
	// orderHeading is the heading above that table.
	orderHeading = "Okuma sırası"
	// troubleshootingPath is the troubleshooting page, which every step
	// README's footer links.
	troubleshootingPath = "docs/09-sorun-giderme.md"
	// frontPage is the repository's front page.
	frontPage = "README.md"
)

// resolve returns the repository path a relative link target in file rel
// points to, a folder standing for its README.md; ok is false for
// external links and targets that cannot be read.
func resolve(rel, target string) (p string, ok bool) {
	if isExternal(target) {
		return "", false
	}
	p, _, _, err := splitTarget(path.Dir(rel), target)
	if err != nil {
		return "", false
	}
	if p == "" {
		return rel, true
	}
	if !strings.HasSuffix(p, ".md") {
		p = path.Join(p, "README.md")
	}
	return p, true
}

// readingOrder returns the pages of the reading order, as repository
// paths: the first relative link of each row of the table under
// "## Okuma sırası" in docs/README.md.
func (r *repo) readingOrder() ([]string, error) {
	f, ok := r.md[orderPath]
	if !ok {
		return nil, fmt.Errorf("%s (the reading order) is missing", orderPath)
	}
	for _, tbl := range f.tables {
		if tbl.heading != orderHeading {
			continue
		}
		var order []string
		seen := map[string]int{}
		for i, links := range tbl.links {
			p, found := "", false
			for _, l := range links {
				if p, found = resolve(orderPath, l.target); found {
					break
				}
			}
			if !found {
				return nil, fmt.Errorf("%s: row %d of the table under %q links no page", orderPath, i+1, orderHeading)
			}
			if _, ok := r.md[p]; !ok {
				return nil, fmt.Errorf("%s: row %d links %s, which is no Markdown file of the repository", orderPath, i+1, p)
			}
			if j, dup := seen[p]; dup {
				return nil, fmt.Errorf("%s: rows %d and %d both link %s", orderPath, j+1, i+1, p)
			}
			seen[p] = i
			order = append(order, p)
		}
		if len(order) == 0 {
			return nil, fmt.Errorf("%s: the table under %q is empty", orderPath, orderHeading)
		}
		return order, nil
	}
	return nil, fmt.Errorf("%s has no table under \"## %s\"", orderPath, orderHeading)
}

// footerLink returns the first link of f's footer that follows the word
// label ("Önceki" or "Sonraki"), and whether the footer has that word.
func footerLink(f *mdFile, label string) (l link, hasLabel, hasLink bool) {
	if len(f.breaks) == 0 {
		return link{}, false, false
	}
	start := f.breaks[len(f.breaks)-1]
	i := strings.Index(f.prose[start:], label)
	if i < 0 {
		return link{}, false, false
	}
	at := start + i
	for _, l := range f.links {
		if l.off > at {
			return l, true, true
		}
	}
	return link{}, true, false
}

// footerLinks returns the pages f's footer links to.
func footerLinks(f *mdFile) map[string]bool {
	pages := map[string]bool{}
	if len(f.breaks) == 0 {
		return pages
	}
	start := f.breaks[len(f.breaks)-1]
	for _, l := range f.links {
		if l.off > start {
			if p, ok := resolve(f.rel, l.target); ok {
				pages[p] = true
			}
		}
	}
	return pages
}

var numberedRE = regexp.MustCompile(`^(docs|steps)/(\d+)-`)

// orderProblems returns what disagrees with the reading order: a footer
// whose previous or next link is not the neighbour in the order, a footer
// without its links back to the order (and, in a step README, to the
// troubleshooting page), numbered pages out of their number order, and a
// list or table of the front page that lists pages in another order.
func (r *repo) orderProblems() []string {
	order, err := r.readingOrder()
	if err != nil {
		return []string{err.Error()}
	}
	var problems []string
	pos := map[string]int{}
	for i, p := range order {
		pos[p] = i
	}
	for i, p := range order {
		f := r.md[p]
		if len(f.breaks) == 0 {
			problems = append(problems, fmt.Sprintf("%s has no footer: end it with a --- line and the links of the reading order (%s)", p, orderPath))
			continue
		}
		for _, nb := range []struct {
			label string
			at    int
		}{{"Önceki", i - 1}, {"Sonraki", i + 1}} {
			l, hasLabel, hasLink := footerLink(f, nb.label)
			switch {
			case nb.at < 0 || nb.at >= len(order):
				if hasLabel {
					problems = append(problems, fmt.Sprintf("%s: the footer has %q, but the page is at the %s of the reading order (%s)",
						p, nb.label, map[bool]string{true: "start", false: "end"}[nb.at < 0], orderPath))
				}
			case !hasLabel || !hasLink:
				problems = append(problems, fmt.Sprintf("%s: the footer needs %q with a link to %s, as in the reading order (%s)",
					p, nb.label+":", order[nb.at], orderPath))
			default:
				got, _ := resolve(p, l.target)
				if got != order[nb.at] {
					problems = append(problems, fmt.Sprintf("%s:%d: %q links %s; the reading order (%s) says %s",
						p, l.line, nb.label, got, orderPath, order[nb.at]))
				}
			}
		}
		links := footerLinks(f)
		if !links[orderPath] {
			problems = append(problems, fmt.Sprintf("%s: the footer does not link the reading order (%s)", p, orderPath))
		}
		if strings.HasPrefix(p, "steps/") && !links[troubleshootingPath] {
			problems = append(problems, fmt.Sprintf("%s: the footer does not link the troubleshooting page (%s)", p, troubleshootingPath))
		}
	}
	// Pages of one kind are numbered in the order they are read.
	last := map[string]int{}
	lastPage := map[string]string{}
	for _, p := range order {
		m := numberedRE.FindStringSubmatch(p)
		if m == nil {
			continue
		}
		n, _ := strconv.Atoi(m[2])
		if prev, ok := last[m[1]]; ok && n <= prev {
			problems = append(problems, fmt.Sprintf("%s: %s comes after %s in the reading order but has a lower number; keep the numbers in reading order",
				orderPath, p, lastPage[m[1]]))
		}
		last[m[1]], lastPage[m[1]] = n, p
	}
	// The front page may list some pages, but never in another order.
	if f, ok := r.md[frontPage]; ok {
		if !footerOrAnyLink(f, orderPath) {
			problems = append(problems, fmt.Sprintf("%s does not link the reading order (%s)", frontPage, orderPath))
		}
		prev := map[int]link{}
		for _, l := range f.links {
			p, ok := resolve(frontPage, l.target)
			if !ok || l.block == 0 {
				continue
			}
			at, inOrder := pos[p]
			if !inOrder {
				continue
			}
			if pl, seen := prev[l.block]; seen {
				pp, _ := resolve(frontPage, pl.target)
				if pos[pp] > at {
					problems = append(problems, fmt.Sprintf("%s:%d: lists %s after %s; the reading order (%s) has them the other way round",
						frontPage, l.line, p, pp, orderPath))
				}
			}
			prev[l.block] = l
		}
	}
	return problems
}

// footerOrAnyLink reports whether f links page anywhere.
func footerOrAnyLink(f *mdFile, page string) bool {
	for _, l := range f.links {
		if p, ok := resolve(f.rel, l.target); ok && p == page {
			return true
		}
	}
	return false
}

// TestReadingOrder checks every page of the reading order (the table in
// docs/README.md): its footer links the previous and the next page, the
// reading order and, for a step, the troubleshooting page; numbered pages
// come in number order; the front page lists nothing in another order.
func TestReadingOrder(t *testing.T) {
	r := loadRepo(t)
	report(t, r.orderProblems())
	if order, err := r.readingOrder(); err == nil {
		t.Logf("reading order: %s", strings.Join(order, " → "))
	}
}

func TestReadingOrderCatchesAWrongFooter(t *testing.T) {
	footer := func(prev, next string) string {
		s := "\n---\n\n"
		if prev != "" {
			s += "Önceki: [a](" + prev + ") · "
		}
		if next != "" {
			s += "Sonraki: [b](" + next + ")"
		}
		return s + "\n\n[Okuma sırası](../../docs/README.md#okuma-sırası) · [Sorun giderme](../../docs/09-sorun-giderme.md)\n"
	}
	files := map[string]string{
		"README.md": "# Sohbet\n\n[Okuma sırası](docs/README.md#okuma-sırası)\n",
		"docs/README.md": "# Belgeler\n\n## Okuma sırası\n\n| Sıra | Sayfa |\n|---|---|\n" +
			"| 1 | [Bir](../steps/01-bir/README.md) |\n| 2 | [İki](../steps/02-iki/README.md) |\n",
		"docs/09-sorun-giderme.md": "# Sorun giderme\n",
		"steps/01-bir/README.md":   "# Bir\n" + footer("", "../02-iki/README.md"),
		"steps/02-iki/README.md":   "# İki\n" + footer("../01-bir/README.md", ""),
	}
	r, err := readRepo(writeTree(t, files))
	if err != nil {
		t.Fatal(err)
	}
	if p := r.orderProblems(); len(p) > 0 {
		t.Fatalf("a consistent order: %q; want none", p)
	}
	files["steps/02-iki/README.md"] = "# İki\n" + footer("../02-iki/README.md", "")
	if r, err = readRepo(writeTree(t, files)); err != nil {
		t.Fatal(err)
	}
	p := r.orderProblems()
	if len(p) == 0 || !strings.Contains(strings.Join(p, "\n"), `"Önceki" links steps/02-iki/README.md`) {
		t.Errorf("a footer whose Önceki links itself: %q; want it reported", p)
	}
}
