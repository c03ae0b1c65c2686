package main

import (
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"sohbet/internal/chattest"
)

// items is a JavaScript expression: the texts of the list's li elements.
const items = `[...document.querySelectorAll("#messages li")].map(li => li.textContent)`

// hasItem is a JavaScript expression: does #messages hold an li whose text
// is exactly text?
func hasItem(text string) string {
	return fmt.Sprintf(`[...document.querySelectorAll("#messages li")].some(li => li.textContent === %s)`, strconv.Quote(text))
}

// connected waits until the tab's socket is connected on the mode's final
// transport and the server has logged that very connection (by its id), so
// it has joined the room.
func connected(t *testing.T, p *chattest.Process, tab *chattest.Tab, mode chattest.TransportMode) {
	t.Helper()
	mode.WaitTransport(t, tab)
	id := chattest.Eval[string](t, tab, "socket.id")
	if err := p.WaitLog("bir kullanıcı bağlandı (id="+id+")", 5*time.Second); err != nil {
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

// TestBrowserTwoPeopleChat runs the real program and two headless Chromium
// tabs in separate browser contexts (two people, no shared cookies): each
// sees what the other writes, once, in the same order; HTML in a message
// stays text; a reloaded tab joins again. It does so in each of the
// client's three transport modes (the page's default, WebSocket only,
// long-polling only), each against a fresh server, the page left as it is.
func TestBrowserTwoPeopleChat(t *testing.T) {
	b := chattest.NewBrowser(t)
	bin := chattest.Build(t, ".")
	for _, mode := range chattest.TransportModes {
		t.Run(mode.Name, func(t *testing.T) { twoPeopleChat(t, b, bin, mode) })
	}
}

func twoPeopleChat(t *testing.T, b *chattest.Browser, bin string, mode chattest.TransportMode) {
	p := chattest.Start(t, bin)
	ali := b.NewTab(t, chattest.HalfWidth, chattest.TabHeight)
	ayse := b.NewTab(t, chattest.HalfWidth, chattest.TabHeight)
	mode.Apply(t, ali)
	mode.Apply(t, ayse)
	ali.Navigate(t, p.URL+"/")
	connected(t, p, ali, mode)
	ayse.Navigate(t, p.URL+"/")
	connected(t, p, ayse, mode)

	conversation := []struct {
		from *chattest.Tab
		text string
	}{
		{ali, "Merhaba Ayşe!"},
		{ayse, "Selam Ali, nasılsın?"},
		{ali, "Merhaba ağaç, çiçek, ılık, öğle, şöyle, ünlü"},
		{ayse, "İyiyim; ÇĞİÖŞÜ çğıöşü, Türkçe harfler yerinde."},
		{ali, "İyiyim, teşekkürler. Go ile sohbet yazıyorum."},
		{ayse, "Harika! Mesajın bana anında ulaştı."},
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
	}
	if chattest.Screenshots() && mode.Transports == nil {
		// Ali is typing his next message, so the two tabs differ.
		ali.Type(t, "Ben de yeni adımı okuyorum…")
		chattest.SaveScreenshot(t, "05-socketio-broadcast", ali, ayse)
		chattest.Eval[string](t, ali, `document.getElementById("input").value = ""`)
	}

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
		connected(t, p, ayse, mode)
		if id := chattest.Eval[string](t, ayse, "socket.id"); id == oldID {
			t.Errorf("after reload the socket id is still %q", id)
		}
		if n := chattest.Eval[int](t, ayse, `document.querySelectorAll("#messages li").length`); n != 0 {
			t.Errorf("after reload the list has %d items, want 0 (no history in this step)", n)
		}
		// The old connection ends with the page: a WebSocket closes, a
		// long-poll is aborted, and the server sees either at once.
		if err := p.WaitLog("bir kullanıcı ayrıldı (id="+oldID, 5*time.Second); err != nil {
			t.Error(err)
		}
		say(t, ali, "Tekrar hoş geldin!", ali, ayse)
		say(t, ayse, "Teşekkürler, geri döndüm. Çok güzel bir gün!", ali, ayse)
		if got, want := chattest.Eval[[]string](t, ayse, items), []string{"Tekrar hoş geldin!", "Teşekkürler, geri döndüm. Çok güzel bir gün!"}; !slices.Equal(got, want) {
			t.Errorf("Ayşe's list after reload = %q, want %q", got, want)
		}
	})

	// Every message reached each tab exactly once, in order.
	if got := chattest.Eval[int](t, ali, `document.querySelectorAll("#messages li").length`); got != len(want)+3 {
		t.Errorf("Ali's list has %d items, want %d", got, len(want)+3)
	}
	for _, tab := range []*chattest.Tab{ali, ayse} {
		mode.WaitTransport(t, tab)
		tab.CheckNoErrors(t)
		tab.CheckLocalOnly(t)
	}
}
