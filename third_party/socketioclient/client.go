// Package socketioclient embeds the official Socket.IO browser client that
// the course's pages load from /socket.io/socket.io.js.
//
// The file socket.io.js is dist/socket.io.js from the npm package
// socket.io-client 2.5.0, copied byte for byte (see README.md in this
// folder). Version 2.x is the newest client that speaks Engine.IO protocol
// 3, the only protocol github.com/googollee/go-socket.io v1.7.0 serves.
package socketioclient

import (
	"bytes"
	_ "embed"
	"net/http"
	"time"
)

// Version is the socket.io-client release the embedded file comes from.
const Version = "2.5.0"

// SHA256 is the hex SHA-256 of the embedded file; a test checks it.
const SHA256 = "6b0e1b2a58b31c81112c8312779f4543fa065c8fa004363db05e7a8d76f12673"

// Path is where the steps serve the client, as the Node tutorial does.
const Path = "/socket.io/socket.io.js"

// JS is the embedded client bundle, license header included.
//
//go:embed socket.io.js
var JS []byte

// Handler serves the embedded client with a JavaScript content type, an
// ETag from its checksum and a day of caching; http.ServeContent answers
// conditional and range requests.
func Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("Content-Type", "application/javascript; charset=utf-8")
		w.Header().Set("Cache-Control", "public, max-age=86400")
		w.Header().Set("ETag", `"`+SHA256[:16]+`"`)
		http.ServeContent(w, r, "socket.io.js", time.Time{}, bytes.NewReader(JS))
	})
}
