package main

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"sohbet/internal/chattest"
)

// Expressions evaluated in the page.
const (
	// online is the page's list of who is online, in its order.
	online = `[...document.querySelectorAll("#users li")].map(li => li.textContent)`
	// chats is every chat line as [from, text].
	chats = `[...document.querySelectorAll("#messages li:not(.notice)")].map(li => [li.querySelector(".from").textContent, li.lastChild.textContent])`
	// myNick is the nickname the page shows as its own.
	myNick = `(document.querySelector("#users li.me") ? document.querySelector("#users li.me").textContent : "")`
)

// hasNotice is a JavaScript expression: does the page show the notice?
func hasNotice(text string) string {
	return fmt.Sprintf(`[...document.querySelectorAll("#messages li.notice")].some(li => li.textContent === %s)`, strconv.Quote(text))
}

// hasChat is a JavaScript expression: does the page show text from from?
func hasChat(from, text string) string {
	return fmt.Sprintf(`%s.some(([f, t]) => f === %s && t === %s)`, chats, strconv.Quote(from), strconv.Quote(text))
}

// onlineIs is a JavaScript expression: is the online list exactly nicks?
func onlineIs(nicks ...string) string {
	list, _ := json.Marshal(nicks)
	return fmt.Sprintf(`JSON.stringify(%s) === %s`, online, strconv.Quote(string(list)))
}

// choose makes the tab's user pick nick in the page's form and waits until
// the page shows it as its own.
func choose(t *testing.T, tab *chattest.Tab, nick string) {
	t.Helper()
	tab.Fill(t, "#nick-input", nick)
	tab.WaitTrue(t, "the page to take the nickname "+nick, myNick+` === `+strconv.Quote(nick), 5*time.Second)
}

// TestBrowserThreePeopleKnowWhoIsWho runs the real program and three
// headless Chromium tabs in separate browser contexts (three people, no
// shared storage): each chooses a nickname, sees the others join and go,
// sees who wrote each message, and keeps the nickname across a reload.
func TestBrowserThreePeopleKnowWhoIsWho(t *testing.T) {
	b := chattest.NewBrowser(t)
	p := chattest.Start(t, chattest.Build(t, "."))
	ali := b.NewTab(t, chattest.HalfWidth, chattest.TabHeight)
	ayse := b.NewTab(t, chattest.HalfWidth, chattest.TabHeight)
	can := b.NewTab(t, chattest.HalfWidth, chattest.TabHeight)
	// Can's page is forced to long-polling: presence works over it too.
	can.ForceTransports(t, "polling")

	ali.Navigate(t, p.URL+"/")
	// A first visit asks for a nickname: the page starts as a guest.
	ali.WaitTrue(t, "a guest name", myNick+`.startsWith(`+strconv.Quote(guestPrefix)+`)`, 10*time.Second)
	if ph := chattest.Eval[string](t, ali, `document.getElementById("nick-input").placeholder`); ph != "Bir takma ad seçin" {
		t.Errorf("first visit placeholder %q", ph)
	}
	choose(t, ali, "Ali")

	ayse.Navigate(t, p.URL+"/")
	ayse.WaitTrue(t, "a guest name", myNick+`.startsWith(`+strconv.Quote(guestPrefix)+`)`, 10*time.Second)
	choose(t, ayse, "Ayşe")
	ali.WaitTrue(t, "Ali to see Ayşe online", onlineIs("Ali", "Ayşe"), 5*time.Second)

	can.Navigate(t, p.URL+"/")
	can.WaitTrue(t, "a guest name", myNick+`.startsWith(`+strconv.Quote(guestPrefix)+`)`, 10*time.Second)
	// A refused nickname: the reason shows, the guest name stays.
	can.Fill(t, "#nick-input", "<img src=x onerror=alert(1)>")
	can.WaitTrue(t, "the refusal", hasNotice("Takma ad seçilemedi: "+errNickChars.Error()+"."), 5*time.Second)
	// Taken, whatever the letter case.
	can.Fill(t, "#nick-input", "AYŞE")
	can.WaitTrue(t, "the refusal", hasNotice("Takma ad seçilemedi: "+errNickTaken.Error()+"."), 5*time.Second)
	choose(t, can, "Can")
	for _, tab := range []*chattest.Tab{ali, ayse, can} {
		tab.WaitTrue(t, "everyone to see the same three", onlineIs("Ali", "Ayşe", "Can"), 5*time.Second)
	}
	ali.WaitTrue(t, "Ali to see Can's rename", `[...document.querySelectorAll("#messages li.notice")].some(li => li.textContent.endsWith(" artık Can adını kullanıyor."))`, 5*time.Second)

	// Who wrote what; HTML stays text.
	ali.Send(t, "Merhaba <b>herkese</b>!")
	ayse.Send(t, "Selam Ali")
	for _, tab := range []*chattest.Tab{ali, ayse, can} {
		tab.WaitTrue(t, "Ali's message", hasChat("Ali", "Merhaba <b>herkese</b>!"), 5*time.Second)
		tab.WaitTrue(t, "Ayşe's message", hasChat("Ayşe", "Selam Ali"), 5*time.Second)
		if n := chattest.Eval[int](t, tab, `document.querySelectorAll("#messages b, #users b").length`); n != 0 {
			t.Errorf("a message became HTML: %d <b> elements", n)
		}
	}

	// A reload keeps the nickname: the page asks for it in the handshake,
	// so the others see Ayşe leave and come back, never a guest.
	ayse.Reload(t)
	ayse.WaitTrue(t, "Ayşe to be Ayşe again", myNick+` === "Ayşe"`, 10*time.Second)
	ali.WaitTrue(t, "Ali to see Ayşe leave", hasNotice("Ayşe ayrıldı."), 5*time.Second)
	ali.WaitTrue(t, "Ali to see Ayşe come back", hasNotice("Ayşe katıldı."), 5*time.Second)
	ali.WaitTrue(t, "the list to settle", onlineIs("Ali", "Ayşe", "Can"), 5*time.Second)

	// Over long-polling the browser may have no request open when the page
	// goes: here Can's page pauses its polling, as before an upgrade, and
	// Ali's message completes the last poll. The page tells the server it
	// is going, so the nickname is free at once, not after the ping
	// timeout.
	chattest.Eval[bool](t, can, `(socket.io.engine.transport.pause(() => { window.pollingPaused = true; }), true)`)
	ali.Send(t, "görüşürüz Can")
	can.WaitTrue(t, "Can's page to stop polling", `window.pollingPaused === true`, 5*time.Second)
	can.Reload(t)
	can.WaitTrue(t, "Can to be Can again", myNick+` === "Can"`, 10*time.Second)
	ali.WaitTrue(t, "Ali to see Can leave", hasNotice("Can ayrıldı."), 5*time.Second)
	ali.WaitTrue(t, "the list to settle", onlineIs("Ali", "Ayşe", "Can"), 5*time.Second)

	if chattest.Screenshots() {
		chattest.SaveScreenshot(t, "07-nicknames-and-presence", ali, ayse, can)
	}

	// Can leaves: the others' lists drop Can.
	can.Close(t)
	for _, tab := range []*chattest.Tab{ali, ayse} {
		tab.WaitTrue(t, "Can to leave the list", onlineIs("Ali", "Ayşe"), 10*time.Second)
	}
	if got := chattest.Eval[[]string](t, ali, online); !slices.Equal(got, []string{"Ali", "Ayşe"}) {
		t.Errorf("Ali's list %q", got)
	}
	for _, tab := range []*chattest.Tab{ali, ayse} {
		tab.CheckNoErrors(t)
		tab.CheckNoDialogs(t)
		tab.CheckLocalOnly(t)
	}
}
