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
func TestBrowserSendsWhatIsTyped(t *testing.T) {
	b := chattest.NewBrowser(t)
	p := chattest.Start(t, chattest.Build(t, "."))
	tab := b.NewTab(t, chattest.HalfWidth, chattest.TabHeight)
	tab.Navigate(t, p.URL+"/")
	tab.WaitTrue(t, "the socket to connect", `typeof socket === "object" && socket.connected`, 10*time.Second)

	for _, msg := range []string{"Merhaba sunucu!", "Türkçe: çğıİöşü ÇĞÖŞÜ", `<img src=x onerror=alert(1)>`} {
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

	tab.CheckLocalOnly(t)
	tab.CheckNoErrors(t)
	tab.CheckNoDialogs(t)

	if chattest.Screenshots() {
		tab.Type(t, "Bir mesaj daha…")
		chattest.SavePNGs(t, "04-socketio-emit", tab.Capture(t),
			b.Terminal(t, "terminal: go run ./steps/04-socketio-emit", p.Logs(), chattest.TermWidth, chattest.TabHeight))
	}
}
