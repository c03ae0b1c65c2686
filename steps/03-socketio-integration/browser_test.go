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
// connects, and the server logs the connection.
func TestBrowserConnectsWithTheEmbeddedClient(t *testing.T) {
	b := chattest.NewBrowser(t)
	p := chattest.Start(t, chattest.Build(t, "."))
	tab := b.NewTab(t, chattest.HalfWidth, chattest.TabHeight)
	tab.Navigate(t, p.URL+"/")

	tab.WaitTrue(t, "the socket to connect", `typeof socket === "object" && socket.connected`, 10*time.Second)
	if err := p.WaitLog("bir kullanıcı bağlandı", 5*time.Second); err != nil {
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

	if chattest.Screenshots() {
		// The page beside the server's terminal, where the connection shows.
		tab.Type(t, "Merhaba Socket.IO!")
		chattest.SavePNGs(t, "03-socketio-integration", tab.Capture(t),
			b.Terminal(t, "terminal: go run ./steps/03-socketio-integration", p.Logs(), chattest.TermWidth, chattest.TabHeight))
	}

	// Reloading the page drops the old connection and makes a new one.
	tab.Reload(t)
	tab.WaitTrue(t, "the socket to connect again", `typeof socket === "object" && socket.connected`, 10*time.Second)
	if err := p.WaitLogCount("bir kullanıcı bağlandı", 2, 5*time.Second); err != nil {
		t.Error(err)
	}
	if err := p.WaitLog("bir kullanıcı ayrıldı", 5*time.Second); err != nil {
		t.Error(err)
	}
	tab.CheckNoErrors(t)
}
