package main

import (
	"slices"
	"strings"
	"testing"
	"time"

	"sohbet/internal/chattest"
)

// TestBrowserConnectsWithTheEmbeddedClient opens the real page in headless
// Chromium: it loads socket.io.js from this server (nothing from a CDN),
// connects, and the server logs the connection. It does so in each of the
// client's three transport modes (the page's default, WebSocket only,
// long-polling only), each against a fresh server, the page left as it is.
func TestBrowserConnectsWithTheEmbeddedClient(t *testing.T) {
	b := chattest.NewBrowser(t)
	bin := chattest.Build(t, ".")
	for _, mode := range chattest.TransportModes {
		t.Run(mode.Name, func(t *testing.T) {
			p := chattest.Start(t, bin)
			tab := b.NewTab(t, chattest.HalfWidth, chattest.TabHeight)
			mode.Apply(t, tab)
			tab.Navigate(t, p.URL+"/")

			mode.WaitTransport(t, tab)
			id := chattest.Eval[string](t, tab, "socket.id")
			if err := p.WaitLog("bir kullanıcı bağlandı (id="+id+")", 5*time.Second); err != nil {
				t.Fatal(err)
			}

			reqs := tab.Requests(t)
			if !slices.Contains(reqs, p.URL+"/socket.io/socket.io.js") {
				t.Errorf("the page did not load %s/socket.io/socket.io.js; requests: %q", p.URL, reqs)
			}
			engine := false
			for _, r := range reqs {
				engine = engine || strings.Contains(r, "/socket.io/?EIO=3&")
			}
			if !engine {
				t.Errorf("no Engine.IO 3 request among %q", reqs)
			}
			tab.CheckLocalOnly(t)
			tab.CheckNoErrors(t)
			tab.CheckNoDialogs(t)

			if chattest.Screenshots() && mode.Transports == nil {
				// The page beside the server's terminal, where the connection shows.
				tab.Type(t, "Merhaba Socket.IO!")
				chattest.SavePNGs(t, "03-socketio-integration", tab.Capture(t),
					b.Terminal(t, "terminal: go run ./steps/03-socketio-integration", p.Logs(), chattest.TermWidth, chattest.TabHeight))
			}

			// Reloading the page drops the old connection and makes a new
			// one, in the same transport mode.
			tab.Reload(t)
			mode.WaitTransport(t, tab)
			newID := chattest.Eval[string](t, tab, "socket.id")
			if newID == id {
				t.Errorf("after reload the socket id is still %q", id)
			}
			if err := p.WaitLog("bir kullanıcı bağlandı (id="+newID+")", 5*time.Second); err != nil {
				t.Error(err)
			}
			// The old connection ends with the page: a WebSocket closes, a
			// long-poll is aborted, and the server sees either at once.
			if err := p.WaitLog("bir kullanıcı ayrıldı (id="+id, 5*time.Second); err != nil {
				t.Error(err)
			}
			tab.CheckNoErrors(t)
		})
	}
}
