package main

// Tests of this step's lesson: history that survives a reload, a lost
// connection and a restart, with no gap, no repeat and no reordering.

import (
	"context"
	"fmt"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"sohbet/internal/chattest"
	"sohbet/internal/sioclient"
)

// roomy is the default configuration with limits that do not get in the
// way of a test that sends many messages.
func roomy(t testing.TB) config {
	cfg := defaults(t)
	cfg.messageRate, cfg.messageBurst = 1e5, 1e5
	cfg.sendQueue = 4096
	return cfg
}

// dialFrom connects and asks for the messages after offset (-1: none, a
// first visit); it reads the welcome like dial.
func dialFrom(t testing.TB, base, mode string, offset int64) *sioclient.Client {
	t.Helper()
	opts := sioclient.DialOptions{}
	if offset >= 0 {
		opts.Query = url.Values{"offset": {strconv.FormatInt(offset, 10)}}
	}
	return dial(t, base, mode, opts)
}

// chatsUntil reads c's "chat message" events until one with text until
// arrives, and returns them all (until included).
func chatsUntil(t testing.TB, c *sioclient.Client, until string) []message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var got []message
	for {
		ev, err := c.Next(ctx, "chat message")
		if err != nil {
			t.Fatalf("after %d messages, waiting for %q: %v", len(got), until, err)
		}
		m := decodeArg[message](t, ev)
		got = append(got, m)
		if m.Text == until {
			return got
		}
	}
}

// say sends texts from c, then waits until c hears the last one, so that
// every one of them is stored and broadcast.
func say(t testing.TB, c *sioclient.Client, texts ...string) {
	t.Helper()
	for _, text := range texts {
		if err := c.Emit("chat message", text); err != nil {
			t.Fatal(err)
		}
	}
	chatsUntil(t, c, texts[len(texts)-1])
}

func numbered(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s %d", prefix, i)
	}
	return out
}

// contiguous reports whether msgs have the ids from, from+1, … in order.
func contiguous(msgs []message, from int64) bool {
	for i, m := range msgs {
		if m.ID != from+int64(i) {
			return false
		}
	}
	return true
}

func TestAFirstVisitGetsTheLastMessages(t *testing.T) {
	_, base, _ := startServer(t, roomy(t))
	a := dialFrom(t, base, "websocket", -1)
	all := numbered("eski", firstVisitHistory+10)
	say(t, a, all...)
	for _, mode := range transports {
		b := dialFrom(t, base, mode, -1)
		if w := nextWelcome(t, b); w.Last == 0 {
			t.Fatalf("welcome.last = 0 after %d messages", len(all))
		}
		want := append(slices.Clone(all[len(all)-firstVisitHistory:]), "canlı "+mode)
		say(t, a, "canlı "+mode)
		all = append(all, "canlı "+mode)
		got := chatsUntil(t, b, "canlı "+mode)
		if !slices.Equal(texts(got), want) || !contiguous(got, got[0].ID) {
			t.Fatalf("%s first visit got %q, want the last %d and then the live one", mode, texts(got), firstVisitHistory)
		}
	}
}

// Away and back: B leaves (politely, by losing its network, or frozen so
// that the server has not noticed yet), A writes 20 messages, B comes back
// with the last id it showed and gets exactly those 20, then live ones.
func TestAwayAndBackGetsExactlyWhatWasMissed(t *testing.T) {
	ways := map[string]func(*sioclient.Client){
		"closes":    func(c *sioclient.Client) { _ = c.Close() },
		"is killed": (*sioclient.Client).Kill,
		"freezes":   (*sioclient.Client).Freeze,
	}
	for _, mode := range []string{"polling", "websocket"} {
		for how, leave := range ways {
			t.Run(mode+" client "+how, func(t *testing.T) {
				_, base, _ := startServer(t, roomy(t))
				a := dialFrom(t, base, "websocket", -1)
				b := dialFrom(t, base, mode, -1)
				say(t, a, "önce")
				seen := chatsUntil(t, b, "önce")
				offset := seen[len(seen)-1].ID

				leave(b)
				missed := numbered("kaçırılan", 20)
				say(t, a, missed...)

				back := dialFrom(t, base, mode, offset)
				say(t, a, "sonra")
				got := chatsUntil(t, back, "sonra")
				if !slices.Equal(texts(got), append(missed, "sonra")) || !contiguous(got, offset+1) {
					t.Fatalf("back with offset %d got %q", offset, texts(got))
				}
			})
		}
	}
}

// Messages written while replays run are seen once, after the replay:
// a sender writes without pause while one client after another comes
// back with an offset; each sees a gapless, repeat-free run of ids.
func TestLiveMessagesDuringAReplayComeAfterIt(t *testing.T) {
	const rounds = 20
	s, base, _ := startServer(t, roomy(t))
	sender := dialFrom(t, base, "websocket", -1)
	say(t, sender, numbered("geçmiş", 300)...)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			if sender.Emit("chat message", "akış "+strconv.Itoa(i)) != nil {
				return
			}
		}
	}()
	defer func() {
		close(stop)
		wg.Wait()
	}()
	for r := range rounds {
		mode := transports[r%len(transports)]
		s.logMu.Lock()
		offset := s.lastID - 200 // 200 to replay, well within maxReplay
		s.logMu.Unlock()
		c := dialFrom(t, base, mode, offset)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		var got []message
		for len(got) < 300 {
			ev, err := c.Next(ctx, "chat message")
			if err != nil {
				t.Fatalf("round %d (%s): after %d messages: %v", r, mode, len(got), err)
			}
			got = append(got, decodeArg[message](t, ev))
		}
		cancel()
		if !contiguous(got, offset+1) {
			for i, m := range got {
				if m.ID != offset+1+int64(i) {
					t.Fatalf("round %d (%s): message %d has id %d, want %d", r, mode, i, m.ID, offset+1+int64(i))
				}
			}
		}
		_ = c.Close()
	}
}

func TestTooLongAwayIsCutWithANotice(t *testing.T) {
	_, base, _ := startServer(t, roomy(t))
	a := dialFrom(t, base, "websocket", -1)
	say(t, a, "başlangıç")
	missed := numbered("uzun", maxReplay+100)
	say(t, a, missed...)
	b := dialFrom(t, base, "polling", 1)
	notice := next(t, b, "chat notice")
	if want := fmt.Sprintf("Siz yokken %d mesaj yazıldı; yalnızca son %d tanesi gösteriliyor.", maxReplay+100, maxReplay); notice != want {
		t.Fatalf("notice %q, want %q", notice, want)
	}
	got := chatsUntil(t, b, missed[len(missed)-1])
	if !slices.Equal(texts(got), missed[100:]) {
		t.Fatalf("got %d messages, want the newest %d", len(got), maxReplay)
	}
}

func TestPrivateMessagesAreNeverStored(t *testing.T) {
	cfg := roomy(t)
	s, base, _ := startServer(t, cfg)
	ali := dialAs(t, base, "websocket", "Ali")
	ayse := dialAs(t, base, "websocket", "Ayşe")
	if ack := sendPrivate(t, ali, map[string]any{"to": "Ayşe", "text": "sır"}); !ack.OK {
		t.Fatal(ack)
	}
	nextEvent(t, ayse, "private message")
	say(t, ali, "açık")
	// A newcomer's history holds the public message only; so does the
	// store.
	c := dialFrom(t, base, "polling", -1)
	for _, ev := range eventsUntil(t, c, "chat message") {
		if ev.Name == "private message" {
			t.Fatalf("a private message was replayed: %s", ev.Args)
		}
	}
	got, _, err := s.store.replay(ctxFor(t), 0, 1<<40, 100)
	if err != nil || !slices.Equal(texts(got), []string{"açık"}) {
		t.Fatalf("store holds %q, %v", texts(got), err)
	}
}

func TestTextThatLooksLikeSQLIsKept(t *testing.T) {
	_, base, _ := startServer(t, roomy(t))
	a := dialFrom(t, base, "websocket", -1)
	tricky := []string{`'); DROP TABLE messages; --`, `1; DELETE FROM messages`, `" OR "1"="1`}
	say(t, a, tricky...)
	b := dialFrom(t, base, "polling", -1)
	if got := chatsUntil(t, b, tricky[2]); !slices.Equal(texts(got), tricky) {
		t.Fatalf("history %q", texts(got))
	}
}

func TestHistoryLimitKeepsTheNewest(t *testing.T) {
	cfg := roomy(t)
	cfg.historyLimit = 10
	s, base, _ := startServer(t, cfg)
	a := dialFrom(t, base, "websocket", -1)
	say(t, a, numbered("m", 25)...)
	s.trimOnce(context.Background())
	got, _, err := s.store.replay(ctxFor(t), 0, 1<<40, 100)
	if err != nil || !slices.Equal(texts(got), numbered("m", 25)[15:]) {
		t.Fatalf("after trimming to 10: %q, %v", texts(got), err)
	}
}

// The database goes away and comes back: a message that cannot be stored
// is not broadcast and its sender is told; /healthz says so; once the
// database is back it is used again, without a restart.
func TestADatabaseThatGoesAwayAndComesBack(t *testing.T) {
	pg := chattest.StartPostgres(t)
	cfg := roomy(t)
	cfg.databaseURL = pg.URL
	_, base, logs := startServer(t, cfg)
	a := dialFrom(t, base, "websocket", -1)
	b := dialFrom(t, base, "polling", -1)
	say(t, a, "veritabanı varken")
	chatsUntil(t, b, "veritabanı varken")

	pg.Stop(t)
	if err := a.Emit("chat message", "veritabanı yokken"); err != nil {
		t.Fatal(err)
	}
	if got := next(t, a, "chat notice"); !strings.Contains(got, errNotStored.Error()) {
		t.Fatalf("notice %q", got)
	}
	code, body := get(t, base+"/healthz", "")
	if code != 503 || !strings.Contains(body, `"database":"unreachable"`) {
		t.Fatalf("/healthz with the database down = %d %s", code, body)
	}
	if logs.Count("mesaj saklanamadı") == 0 {
		t.Error("the failure is not logged")
	}

	pg.Restart(t)
	if !chattest.Eventually(20*time.Second, func() bool { c, _ := get(t, base+"/healthz", ""); return c == 200 }) {
		t.Fatal("/healthz did not recover")
	}
	say(t, a, "veritabanı dönünce")
	// b never got the message that was not stored.
	got := chatsUntil(t, b, "veritabanı dönünce")
	if !slices.Equal(texts(got), []string{"veritabanı dönünce"}) {
		t.Fatalf("b got %q", texts(got))
	}
}

// The real program is stopped (SIGTERM, then SIGKILL) and started again
// on the same SQLite file: every message it broadcast is still there.
func TestARestartKeepsEveryBroadcastMessage(t *testing.T) {
	bin := chattest.Build(t, ".")
	db := "DATABASE_PATH=" + filepath.Join(t.TempDir(), "sohbet.db")
	env := []string{db, "MESSAGE_RATE=1000", "MESSAGE_BURST=1000"}
	var all []string
	for round, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGKILL} {
		p := chattest.Start(t, bin, env...)
		c := dialFrom(t, p.URL, "websocket", -1)
		batch := numbered(fmt.Sprintf("tur %d", round), 30)
		say(t, c, batch...)
		all = append(all, batch...)
		if _, _, err := p.Stop(sig, 10*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	p := chattest.Start(t, bin, env...)
	c := dialFrom(t, p.URL, "polling", -1)
	if got := chatsUntil(t, c, all[len(all)-1]); !slices.Equal(texts(got), all[len(all)-firstVisitHistory:]) {
		t.Fatalf("after two restarts the history is %q", texts(got))
	}
}
