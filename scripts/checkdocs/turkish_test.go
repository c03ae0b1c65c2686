package checkdocs

// Writing rules of the glossary (docs/07-sozluk.md, "Yazım kuralları"):
// how suffixes attach to foreign words (the table under "Kesme işareti")
// and how numbers are written. Both run over the prose of every Turkish
// Markdown file: code spans and blocks, link targets and URLs are not
// prose, and a file's "In English" section is left out.

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// apostropheHeading is the glossary heading above the apostrophe table.
const apostropheHeading = "Kesme işareti"

// turkishFile reports whether the Markdown file rel is written in
// Turkish; third_party/ holds upstream notes in English.
func turkishFile(rel string) bool {
	return !strings.HasPrefix(rel, "third_party/")
}

// turkishProse returns the prose of f that the Turkish rules apply to.
func turkishProse(f *mdFile) string { return f.prose[:f.english] }

// suffixRule is one row of the glossary's apostrophe table.
type suffixRule struct {
	word string
	// apostrophe tells whether a suffix on word takes an apostrophe
	// (goroutine'i, Heroku'ya) or not (dynoya, pingi).
	apostrophe bool
	example    string
	re         *regexp.Regexp
}

// suffixRules reads the table under "### Kesme işareti" in the glossary:
// the word, then "kesmeyle" or "kesmesiz", then examples.
func suffixRules(glossary *mdFile) ([]suffixRule, error) {
	var rules []suffixRule
	for _, tbl := range glossary.tables {
		if tbl.heading != apostropheHeading {
			continue
		}
		for i, cells := range tbl.rows {
			if len(cells) < 3 || cells[0] == "" {
				return nil, fmt.Errorf("%s: row %d of the table under %q needs a word, kesmeyle or kesmesiz, and examples", glossaryPath, i+1, apostropheHeading)
			}
			rule := suffixRule{word: cells[0], example: cells[2]}
			switch cells[1] {
			case "kesmeyle":
				rule.apostrophe = true
				// The word as written, or with a capital at the start of a
				// sentence, followed straight by lower-case letters.
				first, size := utf8.DecodeRuneInString(rule.word)
				alts := []string{regexp.QuoteMeta(rule.word)}
				if up := string(unicode.ToUpper(first)) + rule.word[size:]; up != rule.word {
					alts = append(alts, regexp.QuoteMeta(up))
				}
				rule.re = regexp.MustCompile(`(?:^|[^\p{L}\p{N}./-])(` + strings.Join(alts, "|") + `)(\p{Ll}+)`)
			case "kesmesiz":
				rule.re = regexp.MustCompile(`(?i)(?:^|[^\p{L}\p{N}./-])(` + regexp.QuoteMeta(rule.word) + `)['’](\p{L}+)`)
			default:
				return nil, fmt.Errorf("%s: row %d of the table under %q says %q; write kesmeyle or kesmesiz", glossaryPath, i+1, apostropheHeading, cells[1])
			}
			rules = append(rules, rule)
		}
	}
	if len(rules) == 0 {
		return nil, fmt.Errorf("%s has no table under \"### %s\"", glossaryPath, apostropheHeading)
	}
	return rules, nil
}

// apostropheProblemsIn returns the suffixes of prose that break a rule.
func apostropheProblemsIn(prose string, rules []suffixRule) []string {
	var found []string
	for _, rule := range rules {
		for _, m := range rule.re.FindAllStringSubmatchIndex(prose, -1) {
			word, suffix := prose[m[2]:m[3]], prose[m[4]:m[5]]
			if rule.apostrophe {
				if suffix == "s" {
					continue // an English plural in a name, as in Cloud Native Buildpacks
				}
				found = append(found, fmt.Sprintf("%d: %q: a suffix on %s takes an apostrophe (%s'%s; glossary: %s)",
					lineOf(prose, m[2]), word+suffix, rule.word, word, suffix, rule.example))
			} else {
				found = append(found, fmt.Sprintf("%d: %q: a suffix on %s takes no apostrophe (%s%s; glossary: %s)",
					lineOf(prose, m[2]), prose[m[2]:m[5]], rule.word, word, suffix, rule.example))
			}
		}
	}
	return found
}

// codeSuffixProblems returns the code spans of f that a suffix sticks to
// without an apostrophe (`Emit`i for `Emit`'i).
func codeSuffixProblems(f *mdFile) []string {
	var found []string
	for _, end := range f.codeEnds {
		if end >= f.english || end >= len(f.raw) {
			continue
		}
		if r, _ := utf8.DecodeRuneInString(f.raw[end:]); unicode.IsLetter(r) {
			start := strings.LastIndexByte(f.raw[:end], '\n') + 1
			found = append(found, fmt.Sprintf("%d: %q: a suffix on code takes an apostrophe (`Emit`'i)",
				lineOf(f.raw, end), strings.TrimSpace(f.raw[start:min(len(f.raw), end+8)])))
		}
	}
	return found
}

// apostropheProblems returns the suffixes of every Turkish Markdown file
// that break the glossary's apostrophe rule.
func (r *repo) apostropheProblems() ([]string, error) {
	glossary, ok := r.md[glossaryPath]
	if !ok {
		return nil, fmt.Errorf("%s is missing", glossaryPath)
	}
	rules, err := suffixRules(glossary)
	if err != nil {
		return nil, err
	}
	var problems []string
	for _, rel := range r.files {
		if !turkishFile(rel) {
			continue
		}
		f := r.md[rel]
		for _, p := range apostropheProblemsIn(turkishProse(f), rules) {
			problems = append(problems, rel+":"+p)
		}
		for _, p := range codeSuffixProblems(f) {
			problems = append(problems, rel+":"+p)
		}
	}
	return problems, nil
}

// TestApostrophes fails when a suffix on a foreign word or on code breaks
// the glossary's rule: Heroku'ya and goroutine'i, but dynoya and pingi.
func TestApostrophes(t *testing.T) {
	problems, err := loadRepo(t).apostropheProblems()
	if err != nil {
		t.Fatal(err)
	}
	report(t, problems)
}

// numberRule is a way of writing a number that Turkish does not use.
type numberRule struct {
	re   *regexp.Regexp
	why  string
	skip func(match string) bool
}

// units are the units a number may carry in the course's prose.
const units = `(?:ms|µs|sn|s|saniye|dakika|dk|KB|MB|GB|KiB|MiB|GiB|bayt|kat|\$)`

// numberRules are the glossary's number rules as patterns. Each pattern
// has one group: the wrong number. Versions (2.5.0, v1.7.0, Go 1.26) have
// two dots, a v or no unit, and pass.
var numberRules = []numberRule{
	{
		re:  regexp.MustCompile(`(?:^|[^\p{L}\p{N}.,])(\d+\.\d+)\s?` + units + `(?:$|[^\p{L}\p{N}])`),
		why: "the decimal separator is a comma (0,2 sn, 2,5 MB)",
		// 50.000 ms has thousands, not decimals.
		skip: func(m string) bool { return regexp.MustCompile(`^\d{2,3}(?:\.\d{3})+$`).MatchString(m) },
	},
	{
		re:  regexp.MustCompile(`(?:^|[^\p{L}\p{N}.,])(0\.\d+)(?:$|[^\p{N}.])`),
		why: "the decimal separator is a comma (0,2)",
	},
	{
		re:  regexp.MustCompile(`(\d+(?:[.,]\d+)?\s?%)`),
		why: "the percent sign comes before the number (%2,8)",
	},
	{
		re:  regexp.MustCompile(`(%\d+\.\d+)`),
		why: "the decimal separator is a comma (%2,8)",
	},
	{
		re:  regexp.MustCompile(`(?:^|[^\p{L}\p{N}.,])(\d{1,3}(?:,\d{3}){2,})(?:$|[^\p{N}])`),
		why: "thousands are separated with dots (1.000.000)",
	},
	{
		re:  regexp.MustCompile(`(?:^|[^\p{L}\p{N}.,])(\d\.\d{3})(?:$|[^\p{N}.,])`),
		why: "four-digit numbers take no dot (1000 kullanıcı)",
	},
	{
		re:  regexp.MustCompile(`(?:^|[^\p{L}\p{N}.,#/+-])(\d{5,})(?:$|[^\p{L}\p{N}.,])`),
		why: "numbers of five digits or more are grouped with dots (50.000)",
	},
	{
		re:  regexp.MustCompile(`(?:^|[^\p{L}\p{N}.,])(\d+(?:[.,]\d+)?\s?s)(?:$|[^\p{L}\p{N}])`),
		why: "seconds are written sn (10 sn)",
	},
	{
		re:  regexp.MustCompile(`\p{L}(/s)(?:$|[^\p{L}\p{N}])`),
		why: "per second is /sn (mesaj/sn)",
	},
}

// numberProblemsIn returns the numbers of prose written the English way.
func numberProblemsIn(prose string) []string {
	var found []string
	for _, rule := range numberRules {
		for _, m := range rule.re.FindAllStringSubmatchIndex(prose, -1) {
			n := prose[m[2]:m[3]]
			if rule.skip != nil && rule.skip(n) {
				continue
			}
			found = append(found, fmt.Sprintf("%d: %q: %s", lineOf(prose, m[2]), n, rule.why))
		}
	}
	return found
}

// numberProblems returns the English-style numbers in the prose and
// tables of every Turkish Markdown file.
func (r *repo) numberProblems() []string {
	var problems []string
	for _, rel := range r.files {
		if !turkishFile(rel) {
			continue
		}
		for _, p := range numberProblemsIn(turkishProse(r.md[rel])) {
			problems = append(problems, rel+":"+p)
		}
	}
	return problems
}

// TestTurkishNumbers fails when prose or a table writes a number the
// English way: 0.2 s, 0.00%, 20000.
func TestTurkishNumbers(t *testing.T) {
	report(t, loadRepo(t).numberProblems())
}

func TestNumberRulesCatchEnglishNumbers(t *testing.T) {
	tests := []struct {
		text string
		bad  bool
	}{
		{"Gecikme 0.2 s sürdü.", true},
		{"Kayıp 0.00% oldu.", true},
		{"Tabloda 20000 mesaj var.", true},
		{"Gecikme 0,2 sn sürdü.", false},
		{"Kayıp %2,8 oldu.", false},
		{"Tabloda 20.000 mesaj, 1000 kullanıcı var.", false},
		{"Go 1.26 ve socket.io-client 2.5.0 kullanıyoruz.", false},
	}
	for _, tt := range tests {
		found := numberProblemsIn(parseMarkdown("x.md", tt.text).prose)
		if (len(found) > 0) != tt.bad {
			t.Errorf("%q: found %q, want a problem: %v", tt.text, found, tt.bad)
		}
	}
}

func TestApostropheRulesFollowTheGlossary(t *testing.T) {
	glossary := parseMarkdown(glossaryPath, "# Sözlük\n\n### "+apostropheHeading+"\n\n"+
		"| Sözcük | Ek | Örnek |\n|---|---|---|\n"+
		"| dyno | kesmesiz | dynoya |\n| Heroku | kesmeyle | Heroku'ya |\n")
	rules, err := suffixRules(glossary)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		text string
		bad  bool
	}{
		{"Uygulama dyno'ya gider.", true},
		{"Herokuya gönderin.", true},
		{"Uygulama dynoya gider; Heroku'ya gönderin.", false},
		{"Heroku Cloud Native Buildpacks kullanır.", false},
	}
	for _, tt := range tests {
		found := apostropheProblemsIn(parseMarkdown("x.md", tt.text).prose, rules)
		if (len(found) > 0) != tt.bad {
			t.Errorf("%q: found %q, want a problem: %v", tt.text, found, tt.bad)
		}
	}
	code := parseMarkdown("x.md", "`Emit`i çağırın, `Emit`'i değil.\n")
	if got := codeSuffixProblems(code); len(got) != 1 {
		t.Errorf("code suffixes: %q, want exactly the one on `Emit`i", got)
	}
}
