package main

import (
	"fmt"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"sohbet/internal/chattest"
)

// hasItem is a JavaScript expression: does #messages hold an li whose text
// is exactly text?
func hasItem(text string) string {
	return fmt.Sprintf(`[...document.querySelectorAll("#messages li")].some(li => li.textContent === %s)`, strconv.Quote(text))
}

// TestBrowserEchoesWhatIsTyped types messages into the real page, served
// by the real program, and waits for the server's echo in the list.
func TestBrowserEchoesWhatIsTyped(t *testing.T) {
	b := chattest.NewBrowser(t)
	p := chattest.Start(t, chattest.Build(t, "."))
	tab := b.NewTab(t, chattest.TabWidth, chattest.TabHeight)
	tab.Navigate(t, p.URL+"/")

	tab.WaitTrue(t, "the WebSocket to open", `ws.readyState === WebSocket.OPEN`, 10*time.Second)
	if err := p.WaitLog("bir kullanıcı bağlandı", 5*time.Second); err != nil {
		t.Fatal(err)
	}

	for _, msg := range []string{"Merhaba!", "Türkçe harfler: çğıİöşü ÇĞÖŞÜ", "<b>kalın değil</b>"} {
		tab.Send(t, msg)
		tab.WaitTrue(t, "the echo of "+msg, hasItem("yankı: "+msg), 5*time.Second)
		if !chattest.Eval[bool](t, tab, hasItem("sen: "+msg)) {
			t.Errorf("the page does not show what was sent: %q", msg)
		}
	}
	if got := chattest.Eval[int](t, tab, `document.querySelectorAll("#messages li").length`); got != 6 {
		t.Errorf("list has %d items, want 6 (3 sent, 3 echoed)", got)
	}
	if got := chattest.Eval[int](t, tab, `document.querySelectorAll("#messages b").length`); got != 0 {
		t.Errorf("a message became HTML: %d <b> elements in the list", got)
	}
	if v := chattest.Eval[string](t, tab, `document.getElementById("input").value`); v != "" {
		t.Errorf("input not cleared after sending: %q", v)
	}

	// The page reached the server over ws://127.0.0.1, nowhere else.
	reqs := tab.Requests(t)
	wantWS := "ws://127.0.0.1:" + strconv.Itoa(p.Port) + "/ws"
	found := false
	for _, r := range reqs {
		found = found || r == wantWS
	}
	if !found {
		t.Errorf("no WebSocket to %s among the requests %q", wantWS, reqs)
	}
	tab.CheckLocalOnly(t)
	tab.CheckNoErrors(t)
	tab.CheckNoDialogs(t)

	chattest.SaveScreenshot(t, "02-websocket-echo", tab)
}

// TestBrowserUsesSecureWebSocketOverHTTPS loads the page over HTTPS (a
// test TLS server; Chromium told to accept its certificate): the page must
// open wss://, not ws:// (which an HTTPS page may not use), and echo.
func TestBrowserUsesSecureWebSocketOverHTTPS(t *testing.T) {
	b := chattest.NewBrowser(t, chattest.AcceptTestCertificates)
	srv := httptest.NewTLSServer(newServer())
	t.Cleanup(srv.Close)
	tab := b.NewTab(t, chattest.TabWidth, chattest.TabHeight)
	tab.Navigate(t, srv.URL+"/")

	tab.WaitTrue(t, "the WebSocket to open", `ws.readyState === WebSocket.OPEN`, 10*time.Second)
	if got, want := chattest.Eval[string](t, tab, "ws.url"), "wss://"+strings.TrimPrefix(srv.URL, "https://")+"/ws"; got != want {
		t.Fatalf("the page opened %s, want %s", got, want)
	}
	tab.Send(t, "güvenli mi?")
	tab.WaitTrue(t, "the echo", hasItem("yankı: güvenli mi?"), 5*time.Second)
	tab.CheckNoErrors(t)
}
