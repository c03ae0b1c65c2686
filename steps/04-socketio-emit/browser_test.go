package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"sohbet/internal/chattest"
)

// TestBrowserSendsWhatIsTyped types messages into the real page in headless
// Chromium and checks that the real server receives each one: it logs it.
// It does so in each of the client's three transport modes (the page's
// default, WebSocket only, long-polling only), each against a fresh server,
// the page left as it is. Turkish letters matter most over long-polling,
// where the client packs messages into a length-prefixed POST body.
func TestBrowserSendsWhatIsTyped(t *testing.T) {
	b := chattest.NewBrowser(t)
	bin := chattest.Build(t, ".")
	for _, mode := range chattest.TransportModes {
		t.Run(mode.Name, func(t *testing.T) {
			p := chattest.Start(t, bin)
			tab := b.NewTab(t, chattest.HalfWidth, chattest.TabHeight)
			mode.Apply(t, tab)
			tab.Navigate(t, p.URL+"/")
			mode.WaitTransport(t, tab)

			for _, msg := range []string{
				"Merhaba sunucu!",
				"Merhaba ağaç, çiçek, ılık, öğle, şöyle, ünlü",
				"Türkçe: çğıİöşü ÇĞÖŞÜ",
				`<img src=x onerror=alert(1)>`,
			} {
				tab.Send(t, msg)
				want := fmt.Sprintf("mesaj: %q", msg)
				if err := p.WaitLog(want, 5*time.Second); err != nil {
					t.Errorf("server did not log %s: %v", want, err)
				}
				if v := chattest.Eval[string](t, tab, `document.getElementById("input").value`); v != "" {
					t.Errorf("input not cleared after sending %q: %q", msg, v)
				}
			}

			// An empty form sends nothing.
			before := p.Logs()
			tab.Send(t, "")
			tab.Send(t, "son")
			if err := p.WaitLog(`mesaj: "son"`, 5*time.Second); err != nil {
				t.Error(err)
			}
			if extra := strings.Count(p.Logs()[len(before):], "mesaj: "); extra != 1 {
				t.Errorf("after an empty submit and one message the server logged %d messages, want 1", extra)
			}

			// The connection stayed on its transport all along.
			mode.WaitTransport(t, tab)
			tab.CheckLocalOnly(t)
			tab.CheckNoErrors(t)
			tab.CheckNoDialogs(t)

			if chattest.Screenshots() && mode.Transports == nil {
				tab.Type(t, "Bir mesaj daha…")
				chattest.SavePNGs(t, "04-socketio-emit", tab.Capture(t),
					b.Terminal(t, "terminal: go run ./steps/04-socketio-emit", p.Logs(), chattest.TermWidth, chattest.TabHeight))
			}
		})
	}
}
