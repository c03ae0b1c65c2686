package main

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"sohbet/internal/chattest"
)

// items is a JavaScript expression: the texts of the list's li elements.
const items = `[...document.querySelectorAll("#messages li")].map(li => li.textContent)`

// transportName is a JavaScript expression: the Engine.IO transport the
// page's socket uses now ("polling" or "websocket").
const transportName = `socket.io.engine.transport.name`

// hasItem is a JavaScript expression: does #messages hold an li whose text
// is exactly text?
func hasItem(text string) string {
	return fmt.Sprintf(`[...document.querySelectorAll("#messages li")].some(li => li.textContent === %s)`, strconv.Quote(text))
}

// connected waits until the tab's socket is connected and the server has
// logged that very connection (by its id), so it has joined the room.
func connected(t *testing.T, p *chattest.Process, tab *chattest.Tab) {
	t.Helper()
	tab.WaitTrue(t, "the socket to connect", `typeof socket === "object" && socket.connected`, 10*time.Second)
	id := chattest.Eval[string](t, tab, "socket.id")
	if err := p.WaitLog("msg=bağlandı id="+id+" ", 5*time.Second); err != nil {
		t.Fatal(err)
	}
}

// say sends text from one tab and waits until every tab in to shows it.
func say(t *testing.T, from *chattest.Tab, text string, to ...*chattest.Tab) {
	t.Helper()
	from.Send(t, text)
	for i, tab := range to {
		tab.WaitTrue(t, fmt.Sprintf("tab %d to show %q", i+1, text), hasItem(text), 5*time.Second)
	}
}

// TestBrowserTwoPeopleChat runs the real program and headless Chromium tabs
// in separate browser contexts (different people, no shared cookies): each
// sees what the others write, in the same order; the transport ends on
// WebSocket, and a page forced to long-polling chats too; HTML in a message
// stays text; a reloaded tab joins again.
func TestBrowserTwoPeopleChat(t *testing.T) {
	b := chattest.NewBrowser(t)
	p := chattest.Start(t, chattest.Build(t, "."))
	ali := b.NewTab(t, chattest.HalfWidth, chattest.TabHeight)
	ayse := b.NewTab(t, chattest.HalfWidth, chattest.TabHeight)
	ali.Navigate(t, p.URL+"/")
	connected(t, p, ali)
	ayse.Navigate(t, p.URL+"/")
	connected(t, p, ayse)

	// socket.io-client starts on long-polling and upgrades.
	for _, tab := range []*chattest.Tab{ali, ayse} {
		tab.WaitTrue(t, "the upgrade to WebSocket", transportName+` === "websocket"`, 10*time.Second)
	}

	conversation := []struct {
		from *chattest.Tab
		text string
	}{
		{ali, "Merhaba Ayşe! Sohbet artık yayında."},
		{ayse, "Selam Ali! Mesajların anında geliyor."},
		{ali, "Her bağlantının kendi kuyruğu var; yavaş biri kimseyi bekletmiyor."},
		{ayse, "Süper, o zaman Heroku'ya gönderelim."},
	}
	var want []string
	for _, m := range conversation {
		say(t, m.from, m.text, ali, ayse)
		want = append(want, m.text)
	}
	for name, tab := range map[string]*chattest.Tab{"Ali": ali, "Ayşe": ayse} {
		if got := chattest.Eval[[]string](t, tab, items); !slices.Equal(got, want) {
			t.Errorf("%s's list = %q, want %q", name, got, want)
		}
		if got := chattest.Eval[string](t, tab, transportName); got != "websocket" {
			t.Errorf("%s's transport after chatting = %q, want websocket", name, got)
		}
	}
	if chattest.Screenshots() {
		// Ali is typing his next message, so the two tabs differ.
		ali.Type(t, "Tamam, hemen…")
		chattest.SaveScreenshot(t, "06-production-chat", ali, ayse)
		chattest.Eval[string](t, ali, `document.getElementById("input").value = ""`)
	}

	t.Run("a page forced to long-polling chats with the others", func(t *testing.T) {
		can := b.NewTab(t, chattest.HalfWidth, chattest.TabHeight)
		can.Navigate(t, p.URL+"/?transport=polling")
		connected(t, p, can)
		say(t, can, "Ben yalnızca uzun yoklamayla bağlıyım.", ali, ayse, can)
		say(t, ali, "Seni görüyoruz, Can.", ali, ayse, can)
		say(t, ayse, "Ben de!", ali, ayse, can)
		if got := chattest.Eval[string](t, can, transportName); got != "polling" {
			t.Errorf("transport = %q, want polling", got)
		}
		for _, r := range can.Requests(t) {
			if strings.HasPrefix(r, "ws:") || strings.HasPrefix(r, "wss:") {
				t.Errorf("the polling-only page opened a WebSocket: %s", r)
			}
		}
		can.CheckNoErrors(t)
		can.CheckLocalOnly(t)
		can.CheckNoDialogs(t)
	})

	t.Run("HTML in a message is shown as text and runs nothing", func(t *testing.T) {
		const evil = `<img src=x onerror=alert(1)>`
		say(t, ayse, evil, ali, ayse)
		for name, tab := range map[string]*chattest.Tab{"Ali": ali, "Ayşe": ayse} {
			last := chattest.Eval[string](t, tab, `document.querySelector("#messages li:last-child").textContent`)
			if last != evil {
				t.Errorf("%s's last item text = %q, want %q", name, last, evil)
			}
			if n := chattest.Eval[int](t, tab, `document.querySelectorAll("#messages img").length`); n != 0 {
				t.Errorf("%s's list holds %d img elements", name, n)
			}
			if slices.Contains(tab.Requests(t), p.URL+"/x") {
				t.Errorf("%s's page requested the image /x", name)
			}
			tab.CheckNoDialogs(t)
		}
	})

	t.Run("a reloaded tab reconnects and chats again", func(t *testing.T) {
		oldID := chattest.Eval[string](t, ayse, "socket.id")
		ayse.Reload(t)
		connected(t, p, ayse)
		if id := chattest.Eval[string](t, ayse, "socket.id"); id == oldID {
			t.Errorf("after reload the socket id is still %q", id)
		}
		if n := chattest.Eval[int](t, ayse, `document.querySelectorAll("#messages li").length`); n != 0 {
			t.Errorf("after reload the list has %d items, want 0 (no history in this step)", n)
		}
		if err := p.WaitLog("msg=ayrıldı id="+oldID+" ", 5*time.Second); err != nil {
			t.Error(err)
		}
		say(t, ali, "Tekrar hoş geldin!", ali, ayse)
		say(t, ayse, "Teşekkürler, geri döndüm.", ali, ayse)
		ayse.WaitTrue(t, "the upgrade to WebSocket", transportName+` === "websocket"`, 10*time.Second)
	})

	for _, tab := range []*chattest.Tab{ali, ayse} {
		tab.CheckNoErrors(t)
		tab.CheckLocalOnly(t)
	}
}
