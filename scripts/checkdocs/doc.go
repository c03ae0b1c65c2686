// Package checkdocs holds the repository's documentation checks. It has no
// code of its own: its tests read every Markdown file in the repository
// (with goldmark, as GitHub renders it) and fail when
//
//   - a relative link points to a file that does not exist, or an #anchor
//     names no heading in its target (GitHub's slug rules, Turkish letters
//     included; no network is used);
//   - a code block pulled from a source file by an embedmd directive differs
//     from that file (fix with `go tool embedmd -w <file.md>`);
//   - a Go, JavaScript or HTML code block in docs/ or a step README was
//     pasted instead of pulled with an embedmd directive;
//   - a page repeats a stale fact, such as free Heroku dynos;
//   - the docs, a step README or a step's code use a translation that the
//     glossary (docs/07-sozluk.md) lists as avoided;
//   - the prose of docs/ or a step README spells Turkish words without
//     their letters ("icin" for "için");
//   - a course page in docs/ cannot be reached by links from README.md.
//
// Run them with `go test ./scripts/checkdocs`.
package checkdocs
