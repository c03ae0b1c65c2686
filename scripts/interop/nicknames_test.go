package interop

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"sohbet/internal/repo"
)

// Texts the steps with nicknames send; they are documented in the table
// of refusals in steps/07-nicknames-and-presence/README.md.
const (
	guestPrefix   = "misafir-"
	nickNotText   = "takma ad metin olmalı"
	nickTaken     = "bu takma adı şu anda başka biri kullanıyor"
	rateLimitText = "çok hızlı gönderiyorsunuz"
)

// Payloads of the events of steps 07 on (the event table in their README).
type (
	welcomeData struct {
		Nick  string   `json:"nick"`
		Users []string `json:"users"`
	}
	nickData struct {
		Nick string `json:"nick"`
	}
	renameData struct {
		From string `json:"from"`
		To   string `json:"to"`
	}
	typingData struct {
		Nick   string `json:"nick"`
		Typing bool   `json:"typing"`
	}
	privateData struct {
		From string `json:"from"`
		To   string `json:"to"`
		Text string `json:"text"`
		At   int64  `json:"at"`
	}
	ackData struct {
		OK    bool   `json:"ok"`
		Nick  string `json:"nick"`
		Error string `json:"error"`
	}
)

// needStep skips the test while steps/dir does not exist yet.
func needStep(t *testing.T, dir string) {
	t.Helper()
	if _, err := os.Stat(filepath.Join("..", "..", "steps", dir)); err != nil {
		t.Skipf("steps/%s does not exist yet", dir)
	}
}

// runSuffix returns a number that makes one driver run's nicknames unique
// on a server that other runs used before.
func runSuffix(t *testing.T) string {
	t.Helper()
	n, err := rand.Int(rand.Reader, big.NewInt(1e6))
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%06d", n.Int64())
}

// decode unmarshals raw into a T, failing the test on an error.
func decode[T any](t *testing.T, raw json.RawMessage) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("driver data %s: %v", raw, err)
	}
	return v
}

// payloadsOf returns the payloads of the events called name that client got.
func payloadsOf[T any](t *testing.T, events []driverEvent, client, name string) []T {
	t.Helper()
	var found []T
	for _, ev := range find(events, "got", client) {
		if ev.Name == name {
			found = append(found, decode[T](t, ev.Data))
		}
	}
	return found
}

// acks returns the acknowledgements client got for event, in order.
func acks(t *testing.T, events []driverEvent, client, event string) []ackData {
	t.Helper()
	var found []ackData
	for _, ev := range find(events, "ack", client) {
		if ev.Name == event {
			found = append(found, decode[ackData](t, ev.Data))
		}
	}
	return found
}

// welcomeOf checks that client's first event was its one "welcome" and
// returns it.
func welcomeOf(t *testing.T, events []driverEvent, client string) welcomeData {
	t.Helper()
	for _, ev := range events {
		if ev.Client != client || (ev.Event != "got" && ev.Event != "received") {
			continue
		}
		if ev.Event != "got" || ev.Name != "welcome" {
			t.Fatalf("client %s: first event %s %q, want welcome", client, ev.Event, ev.Name)
		}
		break
	}
	w := payloadsOf[welcomeData](t, events, client, "welcome")
	if len(w) != 1 {
		t.Fatalf("client %s got %d welcome events, want 1", client, len(w))
	}
	return w[0]
}

// presenceLog is what client heard about the nicknames in names, in order:
// "joined X", "left X" and "renamed X → Y". A run's server may still be
// saying goodbye to the clients of the run before; those are left out.
func presenceLog(t *testing.T, events []driverEvent, client string, names ...string) []string {
	t.Helper()
	var log []string
	for _, ev := range find(events, "got", client) {
		switch ev.Name {
		case "user joined", "user left":
			if d := decode[nickData](t, ev.Data); slices.Contains(names, d.Nick) {
				log = append(log, strings.TrimPrefix(ev.Name, "user ")+" "+d.Nick)
			}
		case "nickname changed":
			if d := decode[renameData](t, ev.Data); slices.Contains(names, d.From) {
				log = append(log, "renamed "+d.From+" → "+d.To)
			}
		}
	}
	return log
}

// checkChat checks that each client got text exactly once, from sender,
// stamped with a time between start and now.
func checkChat(t *testing.T, events []driverEvent, start time.Time, text, sender string, clients ...string) {
	t.Helper()
	for _, c := range clients {
		var n int
		for _, ev := range find(events, "received", c) {
			if ev.Text != text {
				continue
			}
			n++
			if ev.From != sender {
				t.Errorf("client %s got %q from %q, want from %q", c, text, ev.From, sender)
			}
			if at := time.UnixMilli(ev.At); at.Before(start.Truncate(time.Millisecond)) || at.After(time.Now()) {
				t.Errorf("client %s got %q stamped %v, want between %v and now", c, text, at, start)
			}
		}
		if n != 1 {
			t.Errorf("client %s got %q %d times, want exactly once", c, text, n)
		}
	}
}

// checkRefused checks that every acknowledgement is a refusal with a
// reason, and that the reason is not the rate limit: the payload itself
// must be what the server refused.
func checkRefused(t *testing.T, what string, got []ackData, want int) {
	t.Helper()
	if len(got) != want {
		t.Errorf("%s: %d acknowledgements, want %d: %+v", what, len(got), want, got)
	}
	for i, a := range got {
		if a.OK || a.Error == "" || a.Error == rateLimitText {
			t.Errorf("%s: acknowledgement %d is %+v, want a refusal with the payload's reason", what, i, a)
		}
	}
}

// checkNone fails when client got any of the events in names.
func checkNone(t *testing.T, events []driverEvent, client string, names ...string) {
	t.Helper()
	for _, ev := range find(events, "got", client) {
		if slices.Contains(names, ev.Name) {
			t.Errorf("client %s got %q %s, want none", client, ev.Name, ev.Data)
		}
	}
}

// testNicknames runs the scenarios of presence and wrong payloads against
// the step in dir over each transport mode, and with private set, those
// of typing and private messages too.
func testNicknames(t *testing.T, dir string, private bool) {
	needStep(t, dir)
	n := needNode(t)
	p := startStep(t, dir)
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			t.Run("a handshake nick, a refused and an accepted rename, joins and leaves reach the others", func(t *testing.T) {
				checkPresence(t, n, p.URL, m.name, m.want)
			})
			t.Run("wrong payloads are refused in the ack and the connection stays", func(t *testing.T) {
				checkPayloads(t, n, p.URL, m.name, m.want, private)
			})
			if private {
				t.Run("typing reaches all but the typer and a private message exactly two", func(t *testing.T) {
					checkPrivate(t, n, p.URL, m.name, m.want)
				})
			}
		})
	}
}

func TestStep07NodeClientsSpeakNicknamesAndPresence(t *testing.T) {
	testNicknames(t, "07-nicknames-and-presence", false)
}

func TestStep08NodeClientsSpeakTypingAndPrivateMessages(t *testing.T) {
	testNicknames(t, "08-private-and-typing", true)
}

// The steps after 08 speak every event of 07 and 08 too (step 09 adds a
// history of messages, which the scenarios tolerate: each run's texts and
// nicknames are its own).
func TestLaterStepsKeepTheProtocolOfNicknamesAndPrivateMessages(t *testing.T) {
	root, err := repo.Root()
	if err != nil {
		t.Fatal(err)
	}
	steps, err := repo.Steps(root)
	if err != nil {
		t.Fatal(err)
	}
	ran := false
	for _, dir := range steps {
		if num, _ := strconv.Atoi(dir[:2]); num > 8 {
			ran = true
			t.Run(dir, func(t *testing.T) { testNicknames(t, dir, true) })
		}
	}
	if !ran {
		t.Skip("no step after 08 yet")
	}
}

func checkPresence(t *testing.T, n node, url, mode, want string) {
	s := runSuffix(t)
	start := time.Now()
	events := n.drive(t, url, mode, "presence", s)
	checkTransports(t, events, want, "A", "B", "C")
	isik, cagri := "Işık "+s, "Çağrı "+s

	wa, wb, wc := welcomeOf(t, events, "A"), welcomeOf(t, events, "B"), welcomeOf(t, events, "C")
	if wa.Nick != isik || !slices.Contains(wa.Users, isik) {
		t.Errorf("A asked for %q in the handshake and got welcome %+v", isik, wa)
	}
	if !strings.HasPrefix(wb.Nick, guestPrefix) || !slices.Contains(wb.Users, wb.Nick) || !slices.Contains(wb.Users, isik) {
		t.Errorf("B connected without a nick and got welcome %+v, want a guest name and both A and B online", wb)
	}
	// "IŞIK" is "Işık" in capitals: taken, so C is a guest.
	if !strings.HasPrefix(wc.Nick, guestPrefix) || !slices.Contains(wc.Users, isik) || !slices.Contains(wc.Users, cagri) {
		t.Errorf("C asked for the taken %q and got welcome %+v, want a guest name among A and B", "IŞIK "+s, wc)
	}

	// "ışık" is "Işık" in Turkish lower case: taken too.
	a := acks(t, events, "B", "set nickname")
	if len(a) != 2 {
		t.Fatalf("B: %d set nickname acknowledgements, want 2: %+v", len(a), a)
	}
	if a[0].OK || a[0].Error != nickTaken {
		t.Errorf("B asked for %q while A is %q: ack %+v, want refused with %q", "ışık "+s, isik, a[0], nickTaken)
	}
	if !a[1].OK || a[1].Nick != cagri {
		t.Errorf("B asked for %q: ack %+v, want ok", cagri, a[1])
	}

	names := []string{isik, cagri, wb.Nick, wc.Nick}
	for _, tt := range []struct {
		client string
		want   []string
	}{
		{"A", []string{"joined " + wb.Nick, "renamed " + wb.Nick + " → " + cagri, "joined " + wc.Nick, "left " + wc.Nick}},
		{"B", []string{"renamed " + wb.Nick + " → " + cagri, "joined " + wc.Nick, "left " + wc.Nick, "left " + isik}},
		{"C", nil},
	} {
		if got := presenceLog(t, events, tt.client, names...); !slices.Equal(got, tt.want) {
			t.Errorf("client %s heard %q, want %q", tt.client, got, tt.want)
		}
	}
	checkChat(t, events, start, "merhaba çğıİöşü "+s, isik, "A", "B", "C")
}

func checkPayloads(t *testing.T, n node, url, mode, want string, private bool) {
	s := runSuffix(t)
	start := time.Now()
	var flags []string
	clients := []string{"P", "O"}
	if private {
		flags = append(flags, "private")
		clients = append(clients, "Q")
	}
	events := n.drive(t, url, mode, "payloads", append([]string{s}, flags...)...)
	checkTransports(t, events, want, clients...)

	// An object, a number, null, an array, nothing.
	nick := acks(t, events, "P", "set nickname")
	checkRefused(t, "P's set nickname", nick, 5)
	for i, a := range nick {
		if a.Error != nickNotText {
			t.Errorf("set nickname %d: reason %q, want %q", i, a.Error, nickNotText)
		}
	}
	checkChat(t, events, start, "hâlâ buradayım P "+s, welcomeOf(t, events, "P").Nick, "P", "O")
	if private {
		// A string, no "to", a number as "to", a number, null, nothing, no
		// text, a number as text.
		checkRefused(t, "Q's private message", acks(t, events, "Q", "private message"), 8)
		if notices := payloadsOf[string](t, events, "Q", "chat notice"); len(notices) != 1 {
			t.Errorf("Q sent typing %q and got notices %q, want one", "evet", notices)
		}
		checkChat(t, events, start, "hâlâ buradayım Q "+s, welcomeOf(t, events, "Q").Nick, "Q", "O")
	}
	for _, c := range clients {
		checkNone(t, events, c, "nickname changed", "private message", "typing")
	}
}

// checkPrivate runs the private scenario against url; extra goes to the
// driver after TEXT (for example second=URL).
func checkPrivate(t *testing.T, n node, url, mode, want string, extra ...string) {
	s := runSuffix(t)
	start := time.Now()
	events := n.drive(t, url, mode, "private", append([]string{s}, extra...)...)
	checkTransports(t, events, want, "A", "B", "C")
	ali, ayse := "Ali "+s, "Ayşe "+s

	// Typing: B and C see A start and stop; A never sees itself. The chat
	// message A sent after it came to each in order, so a typing event
	// sent to A by mistake would be in A's log.
	wantTyping := []typingData{{Nick: ali, Typing: true}, {Nick: ali, Typing: false}}
	for _, c := range []string{"B", "C"} {
		if got := payloadsOf[typingData](t, events, c, "typing"); !slices.Equal(got, wantTyping) {
			t.Errorf("client %s got typing %+v, want %+v", c, got, wantTyping)
		}
	}
	checkNone(t, events, "A", "typing")
	checkChat(t, events, start, "yazdım "+s, ali, "A", "B", "C")

	// Private messages: A to B, then B to A with A's name in capitals.
	// Each reaches both of them, and never C.
	wantPrivate := []privateData{
		{From: ali, To: ayse, Text: "aramızda kalsın " + s},
		{From: ayse, To: ali, Text: "tamam " + s},
	}
	for _, c := range []string{"A", "B"} {
		got := payloadsOf[privateData](t, events, c, "private message")
		for i := range got {
			if got[i].At < start.UnixMilli() {
				t.Errorf("client %s: private message %+v stamped before the run", c, got[i])
			}
			got[i].At = 0
		}
		if !slices.Equal(got, wantPrivate) {
			t.Errorf("client %s got private messages %+v, want %+v", c, got, wantPrivate)
		}
	}
	checkNone(t, events, "C", "private message")
	checkChat(t, events, start, "herkese "+s, ali, "A", "B", "C")

	if b := acks(t, events, "B", "private message"); len(b) != 1 || !b[0].OK {
		t.Errorf("B's private message to %q: acks %+v, want one ok", "ALİ "+s, b)
	}
	a := acks(t, events, "A", "private message")
	if len(a) != 3 || !a[0].OK {
		t.Fatalf("A's private messages: acks %+v, want ok and two refusals", a)
	}
	checkRefused(t, "A's private messages to an unknown nick and to itself", a[1:], 2)
}
