package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"sohbet/internal/chattest"
	"sohbet/internal/sioclient"
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
	if n := chattest.Eval[int](t, ayse, `[...document.querySelectorAll("#messages li")].filter((li) => li.textContent.startsWith("Takma ad seçilemedi")).length`); n != 0 {
		t.Errorf("after the reload the page was refused its own nickname %d times", n)
	}
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

// TestBrowserTypingAndPrivateMessages: three people; "X yazıyor…" shows for
// the others only and goes away when X sends or stops; a private message
// chosen from the online list is seen by exactly two of the three pages,
// as text.
func TestBrowserTypingAndPrivateMessages(t *testing.T) {
	b := chattest.NewBrowser(t)
	p := chattest.Start(t, chattest.Build(t, "."))
	tabs := map[string]*chattest.Tab{}
	for _, nick := range []string{"Ali", "Ayşe", "Can"} {
		tab := b.NewTab(t, chattest.HalfWidth, chattest.TabHeight)
		if nick == "Can" {
			tab.ForceTransports(t, "polling")
		}
		tab.Navigate(t, p.URL+"/")
		tab.WaitTrue(t, "a guest name", myNick+`.startsWith(`+strconv.Quote(guestPrefix)+`)`, 10*time.Second)
		choose(t, tab, nick)
		tabs[nick] = tab
	}
	ali, ayse, can := tabs["Ali"], tabs["Ayşe"], tabs["Can"]
	for _, tab := range tabs {
		tab.WaitTrue(t, "everyone online", onlineIs("Ali", "Ayşe", "Can"), 5*time.Second)
	}
	const typingLine = `document.getElementById("typing").textContent`

	// Ali types without sending: the others see it, Ali does not.
	ali.Type(t, "Merhaba")
	for _, tab := range []*chattest.Tab{ayse, can} {
		tab.WaitTrue(t, "Ali yazıyor…", typingLine+` === "Ali yazıyor…"`, 5*time.Second)
	}
	if got := chattest.Eval[string](t, ali, typingLine); got != "" {
		t.Errorf("the typer sees %q", got)
	}
	// Sending clears it.
	ali.Send(t, " herkese")
	for _, tab := range []*chattest.Tab{ayse, can} {
		tab.WaitTrue(t, "Ali's message", hasChat("Ali", "Merhaba herkese"), 5*time.Second)
		tab.WaitTrue(t, "the line to clear", typingLine+` === ""`, 5*time.Second)
	}
	// Typing and stopping without sending: it goes away by itself.
	ayse.Type(t, "bir şey")
	ali.WaitTrue(t, "Ayşe yazıyor…", typingLine+` === "Ayşe yazıyor…"`, 5*time.Second)
	ali.WaitTrue(t, "the line to clear after a few seconds", typingLine+` === ""`, 8*time.Second)
	chattest.Eval[string](t, ayse, `document.getElementById("input").value = ""`)

	// Ali picks Ayşe in the online list and whispers.
	chattest.Eval[bool](t, ali, `([...document.querySelectorAll("#users li")].find(li => li.textContent === "Ayşe").click(), true)`)
	if got := chattest.Eval[string](t, ali, `document.getElementById("to").value`); got != "Ayşe" {
		t.Fatalf("clicking Ayşe chose %q", got)
	}
	ali.Send(t, "gizli <i>not</i>")
	const privates = `[...document.querySelectorAll("#messages li.private")].map(li => [li.querySelector(".from").textContent, li.lastChild.textContent])`
	want := `JSON.stringify(` + privates + `) === JSON.stringify([["[özel] Ali → Ayşe", "gizli <i>not</i>"]])`
	for _, tab := range []*chattest.Tab{ali, ayse} {
		tab.WaitTrue(t, "the private message", want, 5*time.Second)
	}
	// Can sees the next public message, and never the private one.
	chattest.Eval[string](t, ali, `document.getElementById("to").value = ""`)
	ali.Send(t, "herkese açık")
	can.WaitTrue(t, "the public message", hasChat("Ali", "herkese açık"), 5*time.Second)
	if n := chattest.Eval[int](t, can, `document.querySelectorAll("#messages li.private").length`); n != 0 {
		t.Fatalf("Can sees %d private messages", n)
	}
	// An unknown recipient: the ack's reason shows.
	chattest.Eval[bool](t, can, `(document.getElementById("to").append(new Option("Özel: Hayalet", "Hayalet")), document.getElementById("to").value = "Hayalet", true)`)
	can.Send(t, "kimse yok mu?")
	can.WaitTrue(t, "the refusal", hasNotice("Özel mesaj gönderilmedi: "+errNotOnline.Error()+"."), 5*time.Second)
	for _, tab := range tabs {
		if n := chattest.Eval[int](t, tab, `document.querySelectorAll("#messages i, #messages b").length`); n != 0 {
			t.Errorf("a message became HTML: %d elements", n)
		}
		tab.CheckNoErrors(t)
		tab.CheckNoDialogs(t)
	}
}

// TestBrowserKeepsTheConversationAcrossReloadAndRestart: the conversation
// is still there after a reload, in order and once; after the server
// restarts, the pages reconnect by themselves and get what was written
// while they were away, once.
func TestBrowserKeepsTheConversationAcrossReloadAndRestart(t *testing.T) {
	b := chattest.NewBrowser(t)
	bin := chattest.Build(t, ".")
	env := []string{"DATABASE_PATH=" + filepath.Join(t.TempDir(), "sohbet.db")}
	p := chattest.Start(t, bin, env...)
	ali := b.NewTab(t, chattest.HalfWidth, chattest.TabHeight)
	ayse := b.NewTab(t, chattest.HalfWidth, chattest.TabHeight)
	ayse.ForceTransports(t, "polling")
	for nick, tab := range map[string]*chattest.Tab{"Ali": ali, "Ayşe": ayse} {
		tab.Navigate(t, p.URL+"/")
		tab.WaitTrue(t, "a guest name", myNick+`.startsWith(`+strconv.Quote(guestPrefix)+`)`, 10*time.Second)
		choose(t, tab, nick)
	}
	conversation := [][2]string{{"Ali", "Merhaba"}, {"Ayşe", "Selam, nasılsın?"}, {"Ali", "İyiyim <b>sen</b>?"}}
	for _, line := range conversation {
		tab := map[string]*chattest.Tab{"Ali": ali, "Ayşe": ayse}[line[0]]
		tab.Send(t, line[1])
		ali.WaitTrue(t, "the line", hasChat(line[0], line[1]), 5*time.Second)
	}
	chatsAre := func(lines [][2]string) string {
		var want strings.Builder
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false) // as JSON.stringify
		_ = enc.Encode(lines)
		return `JSON.stringify(` + chats + `) === ` + strconv.Quote(strings.TrimSpace(want.String()))
	}
	// A reload: the new page is a first visit and gets the conversation.
	ayse.Reload(t)
	ayse.WaitTrue(t, "the conversation after a reload, in order, once", chatsAre(conversation), 10*time.Second)
	// Over long-polling too the server hears that the old page left, so
	// the nickname is free for the new one at once.
	ayse.WaitTrue(t, "Ayşe to be Ayşe again", myNick+` === "Ayşe"`, 10*time.Second)
	if n := chattest.Eval[int](t, ayse, `[...document.querySelectorAll("#messages li")].filter((li) => li.textContent.startsWith("Takma ad seçilemedi")).length`); n != 0 {
		t.Errorf("after the reload the page was refused its own nickname %d times", n)
	}

	// A restart on the same file: SIGTERM, a message nobody saw live is
	// written to the new process by a third client, and both pages come
	// back with exactly that one message added.
	if _, _, err := p.Stop(syscall.SIGTERM, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	for _, tab := range []*chattest.Tab{ali, ayse} {
		tab.WaitTrue(t, "the page to notice", `!socket.connected`, 10*time.Second)
	}
	p = chattest.StartAt(t, bin, p.Port, env...)
	c := dialFrom(t, p.URL, "websocket", -1)
	say(t, c, "siz yokken yazdım")
	after := append(slices.Clone(conversation), [2]string{nextGuest(t, c), "siz yokken yazdım"})
	for _, tab := range []*chattest.Tab{ali, ayse} {
		tab.WaitTrue(t, "the page to come back with the missed message, once", chatsAre(after), 20*time.Second)
		tab.CheckNoDialogs(t)
	}
}

// nextGuest is the nickname the server gave the test client c.
func nextGuest(t *testing.T, c *sioclient.Client) string {
	t.Helper()
	return nextWelcome(t, c).Nick
}

// outboxStates is the page's outbox as [text, state] pairs, in order.
const outboxStates = `[...document.querySelectorAll("#outbox li")].map(li => [li.childNodes[1].textContent, li.querySelector(".state").textContent])`

// TestBrowserSendsWhatWasTypedOfflineOnceInOrder: what Ali types while the
// server is down waits as "gönderiliyor…" and goes out, in order and
// once, when the server is back; what is still on its way when he reloads
// the page goes out from the new page, once.
func TestBrowserSendsWhatWasTypedOfflineOnceInOrder(t *testing.T) {
	b := chattest.NewBrowser(t)
	bin := chattest.Build(t, ".")
	env := []string{"DATABASE_PATH=" + filepath.Join(t.TempDir(), "sohbet.db")}
	p := chattest.Start(t, bin, env...)
	ali := b.NewTab(t, chattest.HalfWidth, chattest.TabHeight)
	ayse := b.NewTab(t, chattest.HalfWidth, chattest.TabHeight)
	ali.ForceTransports(t, "polling")
	for nick, tab := range map[string]*chattest.Tab{"Ali": ali, "Ayşe": ayse} {
		tab.Navigate(t, p.URL+"/")
		tab.WaitTrue(t, "a guest name", myNick+`.startsWith(`+strconv.Quote(guestPrefix)+`)`, 10*time.Second)
		choose(t, tab, nick)
	}
	jsonIs := func(expr string, v any) string {
		var want strings.Builder
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false) // as JSON.stringify
		_ = enc.Encode(v)
		return `JSON.stringify(` + expr + `) === ` + strconv.Quote(strings.TrimSpace(want.String()))
	}
	var want [][2]string
	aliSays := func(texts ...string) {
		for _, text := range texts {
			want = append(want, [2]string{"Ali", text})
		}
	}

	// The server stops; Ali types three messages. They wait in the
	// outbox, in order, as "gönderiliyor…".
	if _, _, err := p.Stop(syscall.SIGTERM, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	ali.WaitTrue(t, "the page to notice", `!socket.connected`, 10*time.Second)
	offline := []string{"bir", "iki", "üç <b>dört</b>"}
	for _, text := range offline {
		ali.Send(t, text)
	}
	var pending [][2]string
	for _, text := range offline {
		pending = append(pending, [2]string{text, "gönderiliyor…"})
	}
	ali.WaitTrue(t, "three messages waiting in order", jsonIs(outboxStates, pending), 5*time.Second)

	// The server is back: they go out in order, once, and leave the outbox.
	p = chattest.StartAt(t, bin, p.Port, env...)
	aliSays(offline...)
	for _, tab := range []*chattest.Tab{ali, ayse} {
		tab.WaitTrue(t, "the offline messages, in order, once", jsonIs(chats, want), 20*time.Second)
	}
	ali.WaitTrue(t, "an empty outbox", `document.querySelectorAll("#outbox li").length === 0`, 5*time.Second)

	// The server freezes (SIGSTOP: its sockets stay open but nothing is
	// answered). Ali sends two more; the first is on the wire, the second
	// waits its turn. He reloads, and the server wakes up while the new
	// page loads: whatever the old page's request delivered, the new page
	// sends again from sessionStorage with the same client offsets, and
	// each message is shown once, in the order typed.
	if err := p.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	stalled := []string{"beş", "altı"}
	for _, text := range stalled {
		ali.Send(t, text)
	}
	ali.WaitTrue(t, "two messages waiting", `document.querySelectorAll("#outbox li").length === 2`, 5*time.Second)
	reloaded := make(chan struct{})
	go func() {
		defer close(reloaded)
		ali.Reload(t)
	}()
	if err := p.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	<-reloaded
	aliSays(stalled...)
	for _, tab := range []*chattest.Tab{ali, ayse} {
		tab.WaitTrue(t, "every message once, in the order typed", jsonIs(chats, want), 20*time.Second)
		tab.CheckNoDialogs(t)
	}
	ali.WaitTrue(t, "an empty outbox after the reload", `document.querySelectorAll("#outbox li").length === 0`, 5*time.Second)
	// While the server was down the pages' requests were refused; nothing
	// else may have gone wrong.
	for _, tab := range []*chattest.Tab{ali, ayse} {
		for _, e := range tab.Errors(t) {
			if !strings.Contains(e, "net::ERR_CONNECTION_REFUSED") {
				t.Errorf("page error: %s", e)
			}
		}
	}
}

// TestBrowserTwoProcessesAreOneChat runs two processes of the real
// program on one Redis and one database, and a Chromium tab on each (the
// second forced to long-polling). They see each other online and chat.
// Then the first process is killed (SIGKILL) and started again on its
// port at once, as a platform restarts a crashed dyno: its page comes
// back with every message it missed, and with its nickname, which the
// dead process holds until its claim expires: the page asks again.
func TestBrowserTwoProcessesAreOneChat(t *testing.T) {
	b := chattest.NewBrowser(t)
	r := chattest.StartRedis(t)
	bin := chattest.Build(t, ".")
	env := []string{"REDIS_URL=" + r.URL, "DATABASE_PATH=" + filepath.Join(t.TempDir(), "sohbet.db")}
	first := chattest.Start(t, bin, env...)
	second := chattest.Start(t, bin, env...)
	for _, p := range []*chattest.Process{first, second} {
		if err := p.WaitLog("Redis'e bağlandı", 10*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	ali := b.NewTab(t, chattest.HalfWidth, chattest.TabHeight)
	ayse := b.NewTab(t, chattest.HalfWidth, chattest.TabHeight)
	ayse.ForceTransports(t, "polling")
	for tab, at := range map[*chattest.Tab]*chattest.Process{ali: first, ayse: second} {
		tab.Navigate(t, at.URL+"/")
		tab.WaitTrue(t, "a guest name", myNick+`.startsWith(`+strconv.Quote(guestPrefix)+`)`, 10*time.Second)
	}
	choose(t, ali, "Ali")
	choose(t, ayse, "Ayşe")
	for _, tab := range []*chattest.Tab{ali, ayse} {
		tab.WaitTrue(t, "both online on both processes", onlineIs("Ali", "Ayşe"), 10*time.Second)
	}
	ali.Send(t, "Merhaba, ben birinci sunucudayım")
	ayse.Send(t, "Ben de ikincideyim")
	for _, tab := range []*chattest.Tab{ali, ayse} {
		tab.WaitTrue(t, "Ali's message", hasChat("Ali", "Merhaba, ben birinci sunucudayım"), 5*time.Second)
		tab.WaitTrue(t, "Ayşe's message", hasChat("Ayşe", "Ben de ikincideyim"), 5*time.Second)
	}
	if chattest.Screenshots() {
		chattest.SaveScreenshot(t, "11-scaling-with-redis", ali, ayse)
	}

	// The test listens to the page's welcomes: which name does the
	// restarted process give?
	chattest.Eval[bool](t, ali, `(window.welcomed = [], socket.on("welcome", (d) => window.welcomed.push(d.nick)), true)`)
	if _, _, err := first.Stop(syscall.SIGKILL, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	ali.WaitTrue(t, "the page to notice", `!socket.connected`, 10*time.Second)
	ayse.Send(t, "Ali, sunucun çöktü")
	first = chattest.StartAt(t, bin, first.Port, env...)
	restarted := time.Now()
	ali.WaitTrue(t, "a welcome from the restarted process", `window.welcomed.length > 0`, 10*time.Second)
	// The page is back within a second or two, while the dead process
	// still holds "Ali": the welcome usually gives a guest name, and the
	// page asks for its own again until the claim has expired.
	ali.WaitTrue(t, "Ali to be Ali again", myNick+` === "Ali"`, presenceTTL+heartbeatEvery+10*time.Second)
	t.Logf("welcomed as %q; Ali's page had its nickname back %v after the restart",
		chattest.Eval[string](t, ali, `window.welcomed[0]`), time.Since(restarted).Round(time.Millisecond))
	for _, tab := range []*chattest.Tab{ali, ayse} {
		tab.WaitTrue(t, "both online again", onlineIs("Ali", "Ayşe"), 10*time.Second)
	}
	ali.WaitTrue(t, "the message Ali missed", hasChat("Ayşe", "Ali, sunucun çöktü"), 10*time.Second)
	if n := chattest.Eval[int](t, ali, `document.querySelectorAll("#messages li:not(.notice)").length`); n != 3 {
		t.Errorf("Ali's page shows %d messages, want the 3 once each", n)
	}
	for _, tab := range []*chattest.Tab{ali, ayse} {
		tab.CheckNoDialogs(t)
	}
}
