// Package bench holds the comparison benchmark: compare.sh runs the same
// loads against the Node reference server (node-reference/server.js), step
// 05 and step 06, with the Go load tool (scripts/loadtest) and, for the
// node-* shapes, with node-load/load.js, a load made of the official
// socket.io-client 2.5.0. The package has no code of its own; its tests
// check node-load/load.js against an in-process server built like the
// steps' servers. scripts/charts turns compare.sh's results into charts
// and tables. cluster.sh measures step 11 as one process without Redis,
// one process with Redis, and two processes joined by Redis
// (docs/08-yuk-testi.md, "Adım 11: birden çok süreç").
package bench
