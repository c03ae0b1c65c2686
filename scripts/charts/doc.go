// Command charts turns the results of scripts/bench/compare.sh into PNG
// charts and Markdown tables, with Turkish titles, labels and numbers.
//
//	go run ./scripts/charts                      # docs/bench/results.jsonl -> docs/bench/
//	go run ./scripts/charts -in /tmp/sohbet-bench.X/results.jsonl   # writes next to it
//	go run ./scripts/charts -check docs/bench    # are the files up to date?
//
// It reads one JSON result per line, as scripts/loadtest -json and
// scripts/bench/node-load/load.js print them, each with a "shape" field
// that compare.sh adds (lines without one get a name made of their
// transport and load). Runs of the same shape and server are grouped; a
// group shows its median run: the one with the median p99 latency, or
// for the idle shape the one with the median memory per connection.
//
// It writes, into the output folder (default: the folder of -in):
//
//   - p99.png: p99 latency of each server, grouped by shape, on a
//     logarithmic axis, with loss and drops in the labels;
//   - idle-memory.png: memory per idle connection of each server (the
//     idle shape; left out when there is none);
//   - ws-medium-latency.png: p50, p90 and p99 of each server for the
//     ws-medium shape (left out when there is none);
//   - loss.png: loss in percent of each server per shape (only when some
//     run lost messages);
//   - results.md: the charts and one table per shape.
//
// The output is a pure function of the results file: no dates, fonts
// embedded in gonum/plot, fixed sizes, so running it twice gives the same
// bytes. checkUpToDate (and -check) uses that: it renders the folder's
// results.jsonl again and compares the bytes with the files in the
// folder. Unknown fields in the results are ignored. The bytes can
// change with the gonum/plot version and where the compiler fuses
// multiply-adds (arm64, or GOAMD64=v3 and above): render on amd64 with
// the default GOAMD64 before committing docs/bench.
package main
