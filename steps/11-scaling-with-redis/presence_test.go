package main

// Tests of this step's lesson: nicknames, their rules, and who is online.

import (
	"context"
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"sohbet/internal/sioclient"
)

// dialAs connects over mode and asks for nick in the handshake query, as
// the page does with io({query: {nick}}); "" connects as a guest.
func dialAs(t testing.TB, base, mode, nick string) *sioclient.Client {
	t.Helper()
	opts := sioclient.DialOptions{}
	if nick != "" {
		opts.Query = url.Values{"nick": {nick}}
	}
	return dial(t, base, mode, opts)
}

// nextWelcome returns c's "welcome".
func nextWelcome(t testing.TB, c *sioclient.Client) welcome {
	t.Helper()
	if w, ok := welcomes.Load(c); ok {
		return w.(welcome) // dial read it
	}
	return decodeArg[welcome](t, nextEvent(t, c, "welcome"))
}

// nextEvent returns the next event called name that c receives.
func nextEvent(t testing.TB, c *sioclient.Client, name string) sioclient.Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ev, err := c.Next(ctx, name)
	if err != nil {
		t.Fatalf("waiting for %q on %s: %v", name, c.Transport(), err)
	}
	return ev
}

// setNick sends "set nickname" with arg and returns the acknowledgement.
func setNick(t testing.TB, c *sioclient.Client, arg ...any) nickAck {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	args, err := c.EmitAck(ctx, "set nickname", arg...)
	if err != nil {
		t.Fatalf("set nickname %v: %v", arg, err)
	}
	if len(args) != 1 {
		t.Fatalf("set nickname acknowledged with %d arguments, want 1", len(args))
	}
	var ack nickAck
	if err := json.Unmarshal(args[0], &ack); err != nil {
		t.Fatalf("acknowledgement %s: %v", args[0], err)
	}
	return ack
}

func TestValidateNick(t *testing.T) {
	accepted := []struct{ in, want string }{
		{"Ali", "Ali"},
		{"  Ayşe   Yılmaz ", "Ayşe Yılmaz"},
		{"ağaç_kökü-2.0", "ağaç_kökü-2.0"},
		{"Öğretmen İpek", "Öğretmen İpek"},
		{"李雷", "李雷"},
		{"Can\u00a0Can", "Can Can"}, // a no-break space becomes a space
		{"Ali\tVeli", "Ali Veli"},   // so do tabs
		{"s\u0327ule", "şule"},      // ş written as s + a combining cedilla
		{strings.Repeat("ğ", 24), strings.Repeat("ğ", 24)},
	}
	for _, tt := range accepted {
		got, err := validateNick(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("validateNick(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	refused := []struct {
		in   any
		want error
	}{
		{"", errNickEmpty},
		{"   ", errNickEmpty},
		{strings.Repeat("a", 25), errNickTooLong},
		{strings.Repeat("ş", 1000), errNickTooLong},
		{"ali\u200b", errNickChars}, // a zero-width space
		{"\u202eilA", errNickChars}, // a right-to-left override
		{"ali\x00", errNickChars},   // a control character
		{"<b>kalın</b>", errNickChars},
		{"ali!", errNickChars},
		{"🙂", errNickChars},
		{"sunucu", errNickReserved},
		{"SUNUCU", errNickReserved},
		{"Admin", errNickReserved},
		{"Yönetici", errNickReserved},
		{42, errNickNotText},
		{nil, errNickNotText},
		{map[string]any{"nick": "ali"}, errNickNotText},
		{[]any{"ali"}, errNickNotText},
	}
	for _, tt := range refused {
		if got, err := validateNick(tt.in); err != tt.want {
			t.Errorf("validateNick(%#v) = %q, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

func TestNickKeyFollowsTurkishCase(t *testing.T) {
	for _, same := range [][]string{
		{"Işık", "ışık", "IŞIK", "işik", "İşik", "Işik"},
		{"İpek", "ipek", "IPEK", "ıpek"},
		{"Ali Veli", "ali veli", "ALİ VELİ"},
	} {
		for _, n := range same[1:] {
			if nickKey(n) != nickKey(same[0]) {
				t.Errorf("nickKey(%q) = %q, nickKey(%q) = %q; want the same", n, nickKey(n), same[0], nickKey(same[0]))
			}
		}
	}
	if nickKey("Işık") == nickKey("Işıl") {
		t.Error("different names share a key")
	}
}

func TestWelcomeGivesANameAndWhoIsOnline(t *testing.T) {
	s, base, _ := startServer(t, defaults(t))
	guest := dialAs(t, base, "websocket", "")
	w := nextWelcome(t, guest)
	if !strings.HasPrefix(w.Nick, guestPrefix) || !slices.Equal(w.Users, []string{w.Nick}) {
		t.Fatalf("first welcome = %+v, want a guest name and only itself online", w)
	}
	ayse := dialAs(t, base, "polling", "Ayşe")
	w2 := nextWelcome(t, ayse)
	if want := []string{"Ayşe", w.Nick}; w2.Nick != "Ayşe" || !slices.Equal(w2.Users, want) {
		t.Fatalf("second welcome = %+v, want Ayşe and users %q", w2, want)
	}
	if got := decodeArg[presence](t, nextEvent(t, guest, "user joined")); got.Nick != "Ayşe" {
		t.Fatalf("the guest was told %+v joined, want Ayşe", got)
	}
	// A name taken by someone online cannot be had in the handshake
	// either: the newcomer is a guest and can choose again.
	twin := dialAs(t, base, "websocket", "AYŞE")
	if w3 := nextWelcome(t, twin); !strings.HasPrefix(w3.Nick, guestPrefix) || len(w3.Users) != 3 {
		t.Fatalf("a second Ayşe got %+v, want a guest name among 3 users", w3)
	}
	waitClients(t, s, 3)
}

func TestNicknamesAreUniqueIgnoringTurkishCase(t *testing.T) {
	_, base, _ := startServer(t, defaults(t))
	a := dialAs(t, base, "websocket", "Işık")
	b := dialAs(t, base, "polling", "")
	nextWelcome(t, a)
	nextWelcome(t, b)
	for _, n := range []string{"ışık", "IŞIK", "işik", "İŞİK", " Işık "} {
		if ack := setNick(t, b, n); ack.OK || ack.Error != errNickTaken.Error() {
			t.Errorf("set nickname %q while Işık is online = %+v, want refused as taken", n, ack)
		}
	}
	if ack := setNick(t, b, "Işıl"); !ack.OK || ack.Nick != "Işıl" {
		t.Fatalf("set nickname Işıl = %+v", ack)
	}
	// Changing only the letter case of one's own name is allowed.
	if ack := setNick(t, a, "IŞIK"); !ack.OK || ack.Nick != "IŞIK" {
		t.Fatalf("Işık renaming itself IŞIK = %+v", ack)
	}
	// A reserved name is refused with its reason.
	if ack := setNick(t, b, "Sunucu"); ack.OK || ack.Error != errNickReserved.Error() {
		t.Fatalf("set nickname Sunucu = %+v", ack)
	}
}

// Every presence event reaches the others, over every transport, in the
// order it happened; the renamer sees its own rename.
func TestJoinRenameLeaveReachEveryoneOverEveryTransport(t *testing.T) {
	s, base, _ := startServer(t, defaults(t))
	for _, mode := range transports {
		t.Run(mode, func(t *testing.T) {
			watcher := dialAs(t, base, "polling", "İzleyici "+mode[:1])
			nextWelcome(t, watcher)
			c := dialAs(t, base, mode, "Gelen "+mode[:1])
			w := nextWelcome(t, c)
			if !slices.Contains(w.Users, "İzleyici "+mode[:1]) {
				t.Fatalf("welcome users %q lack the watcher", w.Users)
			}
			if got := decodeArg[presence](t, nextEvent(t, watcher, "user joined")); got.Nick != "Gelen "+mode[:1] {
				t.Fatalf("joined %+v", got)
			}
			if ack := setNick(t, c, "Giden "+mode[:1]); !ack.OK {
				t.Fatalf("rename: %+v", ack)
			}
			want := renamed{From: "Gelen " + mode[:1], To: "Giden " + mode[:1]}
			for _, x := range []*sioclient.Client{watcher, c} {
				if got := decodeArg[renamed](t, nextEvent(t, x, "nickname changed")); got != want {
					t.Fatalf("%s saw %+v, want %+v", x.Transport(), got, want)
				}
			}
			if err := c.Close(); err != nil {
				t.Fatal(err)
			}
			if got := decodeArg[presence](t, nextEvent(t, watcher, "user left")); got.Nick != "Giden "+mode[:1] {
				t.Fatalf("left %+v", got)
			}
			_ = watcher.Close()
			waitClients(t, s, 0)
		})
	}
}

func TestAMessageSaysWhoWroteIt(t *testing.T) {
	_, base, _ := startServer(t, defaults(t))
	ali := dialAs(t, base, "websocket", "Ali")
	ayse := dialAs(t, base, "polling", "Ayşe")
	nextWelcome(t, ali)
	nextWelcome(t, ayse)
	before := time.Now().UnixMilli()
	if err := ali.Emit("chat message", "Merhaba <b>Ayşe</b>"); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*sioclient.Client{ali, ayse} {
		got := nextPayload(t, c)
		if got.From != "Ali" || got.Text != "Merhaba <b>Ayşe</b>" || got.At < before || got.At > time.Now().UnixMilli() {
			t.Fatalf("%s got %+v", c.Transport(), got)
		}
	}
}

// Wrong payloads for "set nickname" get an error in the acknowledgement;
// the connection stays and nobody else hears of it.
func TestWrongNicknamePayloadsAreRefusedAndNothingIsBroadcast(t *testing.T) {
	_, base, _ := startServer(t, defaults(t))
	for _, mode := range []string{"polling", "websocket"} {
		t.Run(mode, func(t *testing.T) {
			bad := dialAs(t, base, mode, "")
			other := dialAs(t, base, "websocket", "")
			nextWelcome(t, bad)
			nextWelcome(t, other)
			for _, args := range [][]any{
				{map[string]any{"nick": "Ali"}}, {42}, {nil}, {[]string{"Ali"}}, {},
				{strings.Repeat("ş", 20000)}, {"ali\u200b"}, {""},
			} {
				if ack := setNick(t, bad, args...); ack.OK || ack.Error == "" {
					t.Errorf("set nickname %.40v = %+v, want an error", args, ack)
				}
			}
			// Still connected; the other hears the chat and no rename.
			if err := bad.Emit("chat message", "hâlâ buradayım"); err != nil {
				t.Fatal(err)
			}
			timeout := time.After(5 * time.Second)
			for done := false; !done; {
				select {
				case ev := <-other.Events():
					switch ev.Name {
					case "nickname changed":
						t.Fatalf("a refused nickname was broadcast: %s", ev.Args)
					case "chat message":
						if got := chatText(t, ev); got != "hâlâ buradayım" {
							t.Fatalf("other got %q", got)
						}
						done = true
					}
				case <-timeout:
					t.Fatal("the chat message did not arrive")
				}
			}
		})
	}
}

// Renaming is rate-limited like chatting: a flood cannot spam everyone
// with "nickname changed".
func TestARenameFloodIsRateLimited(t *testing.T) {
	cfg := defaults(t)
	cfg.messageRate, cfg.messageBurst = 0.001, 3
	_, base, _ := startServer(t, cfg)
	c := dialAs(t, base, "websocket", "")
	nextWelcome(t, c)
	refused := 0
	for i := range 6 {
		if ack := setNick(t, c, "Sel "+string(rune('A'+i))); !ack.OK {
			refused++
			if ack.Error != errRateHigh.Error() {
				t.Errorf("refused with %q", ack.Error)
			}
		}
	}
	if refused != 3 {
		t.Fatalf("%d of 6 renames refused, want 3 (burst of 3)", refused)
	}
}

func TestGuestNamesAreShortAndUnique(t *testing.T) {
	h := newHub(4, 100, nil)
	seen := map[string]bool{}
	for range 500 {
		n := h.guestNick()
		if seen[n] || !strings.HasPrefix(n, guestPrefix) || utf8.RuneCountInString(n) > maxNickRunes {
			t.Fatalf("guest name %q is repeated or malformed", n)
		}
		seen[n] = true
		h.byNick[nickKey(n)] = &client{nick: n}
	}
}
