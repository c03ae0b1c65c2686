package main

// Tests of this step's lesson: a message sent with a client offset is
// stored once, broadcast once and acknowledged with its id, whatever is
// lost on the way (the message, the acknowledgement, the connection, the
// server).

import (
	"context"
	crand "crypto/rand"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"sohbet/internal/chattest"
	"sohbet/internal/sioclient"
)

// chatAck is the acknowledgement of a "chat message", both shapes.
type chatAck struct {
	OK    bool   `json:"ok"`
	ID    int64  `json:"id"`
	Error string `json:"error"`
	Retry *bool  `json:"retry"`
}

// sendAck sends ("chat message", text, offset) asking for an
// acknowledgement and returns it.
func sendAck(t testing.TB, c *sioclient.Client, text, offset any) chatAck {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	args, err := c.EmitAck(ctx, "chat message", text, offset)
	if err != nil {
		t.Fatalf("chat message %v: %v", text, err)
	}
	return decodeAck(t, args)
}

func decodeAck(t testing.TB, args []json.RawMessage) chatAck {
	t.Helper()
	var ack chatAck
	if len(args) != 1 || json.Unmarshal(args[0], &ack) != nil {
		t.Fatalf("acknowledgement %s: want one object", args)
	}
	return ack
}

// newOffset is a random client offset (the page makes 32 hex digits; any
// visible ASCII of at most 64 characters will do).
func newOffset() string { return crand.Text() }

func TestAStoredMessageIsAcknowledgedWithItsID(t *testing.T) {
	for _, mode := range transports {
		t.Run(mode, func(t *testing.T) {
			_, base, _ := startServer(t, roomy(t))
			a := dial(t, base, mode, sioclient.DialOptions{})
			b := dial(t, base, mode, sioclient.DialOptions{})
			offset := newOffset()
			ack := sendAck(t, a, "merhaba "+mode, offset)
			if !ack.OK || ack.ID == 0 || ack.Retry != nil || ack.Error != "" {
				t.Fatalf("ack %+v, want {ok: true, id: N} and nothing else", ack)
			}
			for name, c := range map[string]*sioclient.Client{"sender": a, "other": b} {
				m := decodeArg[message](t, nextEvent(t, c, "chat message"))
				if m.ID != ack.ID || m.ClientOffset != offset || m.Text != "merhaba "+mode {
					t.Fatalf("%s got %+v, want id %d with client offset %s", name, m, ack.ID, offset)
				}
			}
			// The same offset again (a retry, even with another text): the
			// same acknowledgement, nothing stored or broadcast.
			if again := sendAck(t, a, "yeniden", offset); !again.OK || again.ID != ack.ID {
				t.Fatalf("retry ack %+v, want the first one, id %d", again, ack.ID)
			}
			say(t, a, "sonraki "+mode)
			if got := chatsUntil(t, b, "sonraki "+mode); len(got) != 1 {
				t.Fatalf("after the retry the other got %q, want only the next message", texts(got))
			}
		})
	}
}

func TestRefusedMessagesSayWhetherToRetry(t *testing.T) {
	cfg := roomy(t)
	cfg.maxMessageBytes = 20
	_, base, _ := startServer(t, cfg)
	a := dial(t, base, "websocket", sioclient.DialOptions{})
	b := dial(t, base, "polling", sioclient.DialOptions{})
	for _, tc := range []struct {
		name         string
		text, offset any
		want         error
	}{
		{"too long", strings.Repeat("a", 21), newOffset(), errTooLong},
		{"empty", "   ", newOffset(), errEmpty},
		{"not text", 42, newOffset(), errNotText},
		{"a control character", "zil\x07", newOffset(), errControl},
		{"an offset that is a number", "merhaba", 42, errBadOffset},
		{"an empty offset", "merhaba", "", errBadOffset},
		{"an offset of 65 characters", "merhaba", strings.Repeat("k", 65), errBadOffset},
		{"an offset with a space", "merhaba", "k 1", errBadOffset},
		{"an offset with a Turkish letter", "merhaba", "kış", errBadOffset},
	} {
		ack := sendAck(t, a, tc.text, tc.offset)
		if ack.OK || !strings.HasPrefix(ack.Error, tc.want.Error()) || ack.Retry == nil || *ack.Retry {
			t.Errorf("%s: ack %+v, want ok false, %q, retry false", tc.name, ack, tc.want)
		}
	}
	// An offset of exactly 64 visible characters is fine.
	if ack := sendAck(t, a, "sınırda", strings.Repeat("~", 64)); !ack.OK {
		t.Errorf("a 64-character offset: %+v", ack)
	}
	// Nothing refused was broadcast, and the client that sent offsets got
	// its answers in the acknowledgements only: the first notice it gets
	// is for a message of the earlier protocol (no offset).
	say(t, a, "geçerli")
	if got := chatsUntil(t, b, "geçerli"); !slices.Equal(texts(got), []string{"sınırda", "geçerli"}) {
		t.Fatalf("the other got %q", texts(got))
	}
	if err := a.Emit("chat message", ""); err != nil {
		t.Fatal(err)
	}
	if got := next(t, a, "chat notice"); !strings.Contains(got, errEmpty.Error()) {
		t.Fatalf("first notice %q, want the one for the message without an offset", got)
	}
}

func TestTooFastIsRefusedButARetryOfAStoredMessageIsNot(t *testing.T) {
	cfg := roomy(t)
	cfg.messageRate, cfg.messageBurst = 0.001, 3
	_, base, _ := startServer(t, cfg)
	a := dial(t, base, "websocket", sioclient.DialOptions{})
	offsets := []string{newOffset(), newOffset(), newOffset(), newOffset()}
	var ids []int64
	for i, o := range offsets[:3] {
		ack := sendAck(t, a, "hızlı "+strconv.Itoa(i), o)
		if !ack.OK {
			t.Fatalf("message %d within the burst: %+v", i, ack)
		}
		ids = append(ids, ack.ID)
	}
	if ack := sendAck(t, a, "bir fazla", offsets[3]); ack.OK || ack.Error != errRateHigh.Error() || *ack.Retry {
		t.Fatalf("over the burst: %+v, want %q, retry false", ack, errRateHigh)
	}
	// The bucket is empty, but the answer to a retry is already known.
	for i, o := range offsets[:3] {
		if ack := sendAck(t, a, "hızlı "+strconv.Itoa(i), o); !ack.OK || ack.ID != ids[i] {
			t.Fatalf("retry %d with an empty bucket: %+v, want id %d", i, ack, ids[i])
		}
	}
}

func TestADatabaseDownSaysRetryAndTheRetryIsStoredOnce(t *testing.T) {
	pg := chattest.StartPostgres(t)
	cfg := roomy(t)
	cfg.databaseURL = pg.URL
	_, base, logs := startServer(t, cfg)
	a := dial(t, base, "websocket", sioclient.DialOptions{})
	b := dial(t, base, "polling", sioclient.DialOptions{})

	pg.Stop(t)
	offset := newOffset()
	ack := sendAck(t, a, "veritabanı yokken", offset)
	if ack.OK || ack.Error != errNotStored.Error() || ack.Retry == nil || !*ack.Retry {
		t.Fatalf("with the database down: %+v, want %q, retry true", ack, errNotStored)
	}
	if logs.Count("saklanamadı") == 0 && logs.Count("okunamadı") == 0 {
		t.Error("the failure is not logged")
	}
	pg.Restart(t)
	var stored chatAck
	if !chattest.Eventually(20*time.Second, func() bool { stored = sendAck(t, a, "veritabanı yokken", offset); return stored.OK }) {
		t.Fatalf("the retry after the database came back: %+v", stored)
	}
	if again := sendAck(t, a, "veritabanı yokken", offset); again.ID != stored.ID {
		t.Fatalf("a second retry: %+v, want id %d", again, stored.ID)
	}
	say(t, a, "sonra")
	if got := chatsUntil(t, b, "sonra"); !slices.Equal(texts(got), []string{"veritabanı yokken", "sonra"}) {
		t.Fatalf("the other got %q, want the retried message once", texts(got))
	}
}

// TestALostAcknowledgementIsRepairedByTheRetry: the server stores and
// broadcasts the message, but its acknowledgement never reaches the
// sender (the sender stops reading, then its connection dies). The sender
// comes back on a new connection and sends the message again with the same
// offset: it gets the original id, and nobody sees the message twice.
func TestALostAcknowledgementIsRepairedByTheRetry(t *testing.T) {
	for _, mode := range transports {
		t.Run(mode, func(t *testing.T) {
			_, base, _ := startServer(t, roomy(t))
			b := dial(t, base, "websocket", sioclient.DialOptions{})
			a := dial(t, base, mode, sioclient.DialOptions{})
			a.StopReading()
			offset, text := newOffset(), "onayı kaybolan "+mode
			// Ack id 9, asked for but never read.
			packet, _ := json.Marshal([]any{"chat message", text, offset})
			if err := a.SendRaw("429" + string(packet)); err != nil {
				t.Fatal(err)
			}
			first := decodeArg[message](t, nextEvent(t, b, "chat message"))
			if first.Text != text || first.ClientOffset != offset {
				t.Fatalf("the other got %+v", first)
			}
			a.Kill()

			// The page again, on a new connection: it has shown nothing yet,
			// so it asks for the history of a first visit, and retries.
			again := dialFrom(t, base, mode, -1)
			history := chatsUntil(t, again, text)
			if n := len(history); history[n-1].ID != first.ID {
				t.Fatalf("the history ends with %+v, want id %d", history[n-1], first.ID)
			}
			if ack := sendAck(t, again, text, offset); !ack.OK || ack.ID != first.ID {
				t.Fatalf("retry ack %+v, want id %d", ack, first.ID)
			}
			say(t, again, "sonra "+mode)
			if got := chatsUntil(t, b, "sonra "+mode); len(got) != 1 {
				t.Fatalf("after the retry the other got %q, want only the next message", texts(got))
			}
		})
	}
}

// page plays the course's page in Go: messages with client offsets, sent
// one at a time, each until it is acknowledged; a connection that gives no
// answer within ackWait is given up and replaced by a new one that asks
// for what was missed (offset = the last id shown). Its view is what the
// page would show: every "chat message" with an id above the last one
// shown, in order.
type page struct {
	t       testing.TB
	base    string
	mode    string
	ackWait time.Duration

	dialing    sync.Mutex
	mu         sync.Mutex
	conn       *sioclient.Client
	lastShown  int64
	view       []message
	reconnects int
	// welcomed is set by the first "welcome".
	welcomed bool
	// shown gets a signal whenever the view grows.
	shown chan struct{}
}

func newPage(t testing.TB, base, mode string) *page {
	p := &page{t: t, base: base, mode: mode, ackWait: 2 * time.Second, shown: make(chan struct{}, 1)}
	t.Cleanup(func() {
		p.mu.Lock()
		c := p.conn
		p.mu.Unlock()
		if c != nil {
			c.Kill()
		}
	})
	return p
}

// current returns the page's connection, connecting first if it has
// none; until the server answers it keeps trying, as socket.io-client
// reconnects.
func (p *page) current(ctx context.Context) (*sioclient.Client, error) {
	// dialing makes one dial at a time; p.mu is not held while dialing,
	// since the new connection's reader calls onEvent, which takes it.
	p.dialing.Lock()
	defer p.dialing.Unlock()
	for {
		p.mu.Lock()
		c, lastShown, welcomed := p.conn, p.lastShown, p.welcomed
		p.mu.Unlock()
		if c != nil {
			return c, nil
		}
		opts := sioclient.DialOptions{Transport: p.mode, OnEvent: p.onEvent}
		// As the page does: once welcomed, it asks for what came after
		// the last message shown, even if that is none (0); else the
		// server would take it for a first visit and send only the
		// newest messages.
		if welcomed {
			opts.Query = url.Values{"offset": {strconv.FormatInt(lastShown, 10)}}
		}
		dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		c, err := sioclient.Dial(dctx, p.base, opts)
		cancel()
		if err == nil {
			p.mu.Lock()
			p.conn = c
			p.mu.Unlock()
			return c, nil
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("reconnecting: %w (last: %v)", ctx.Err(), err)
		}
		// The server is down (a restart in progress): try again a moment
		// later, as socket.io-client's reconnection delay does.
		select {
		case <-time.After(50 * time.Millisecond):
		case <-ctx.Done():
		}
	}
}

// onEvent is called by the connection's reader, in order.
func (p *page) onEvent(ev sioclient.Event) {
	if ev.Name == "welcome" {
		p.mu.Lock()
		p.welcomed = true
		p.mu.Unlock()
		return
	}
	if ev.Name != "chat message" {
		return
	}
	var m message
	if len(ev.Args) != 1 || json.Unmarshal(ev.Args[0], &m) != nil {
		p.t.Errorf("chat message %s", ev.Args)
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if m.ID > p.lastShown {
		p.lastShown = m.ID
		p.view = append(p.view, m)
		select {
		case p.shown <- struct{}{}:
		default:
		}
	}
}

// drop ends the connection c (if it is still the page's) without a
// goodbye, so that the next send connects again.
func (p *page) drop(c *sioclient.Client) {
	c.Kill()
	p.mu.Lock()
	if p.conn == c {
		p.conn = nil
		p.reconnects++
	}
	p.mu.Unlock()
}

// send sends text with a new client offset until it is acknowledged and
// returns its id.
func (p *page) send(ctx context.Context, text string) (int64, error) {
	offset := newOffset()
	for {
		c, err := p.current(ctx)
		if err != nil {
			return 0, err
		}
		actx, cancel := context.WithTimeout(ctx, p.ackWait)
		args, err := c.EmitAck(actx, "chat message", text, offset)
		cancel()
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		if err != nil {
			// No answer: the connection died, or went silent.
			p.drop(c)
			continue
		}
		var ack chatAck
		if len(args) != 1 || json.Unmarshal(args[0], &ack) != nil {
			return 0, fmt.Errorf("acknowledgement %s", args)
		}
		switch {
		case ack.OK:
			return ack.ID, nil
		case ack.Retry == nil || !*ack.Retry:
			return 0, fmt.Errorf("%q refused: %s", text, ack.Error)
		}
	}
}

// viewUntil waits until the page has shown id, then returns its view.
func (p *page) viewUntil(t testing.TB, id int64) []message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for {
		p.mu.Lock()
		shown, view := p.lastShown, slices.Clone(p.view)
		p.mu.Unlock()
		if shown >= id {
			return view
		}
		// A page whose connection died while it was not sending notices it
		// only when it sends; here it checks its connection as it waits.
		c, err := p.current(ctx)
		if err != nil {
			t.Fatalf("%s page waiting for id %d (shown %d): %v", p.mode, id, shown, err)
		}
		select {
		case <-c.Done():
			p.drop(c)
		case <-p.shown:
		case <-time.After(time.Second):
			// Nothing new for a second. A page cannot tell a quiet chat
			// from a frozen connection (one the cutter froze last is
			// never closed on its side); it does what socket.io-client
			// does when the server's pongs stop: it connects again and
			// asks for what it missed.
			p.drop(c)
		case <-ctx.Done():
			t.Fatalf("%s page: id %d not shown within 20s (shown %d)", p.mode, id, shown)
		}
	}
}

// TestALostMessageArrivesAfterReconnectingOnce: the connection is cut
// before the server reads the message (it freezes, or dies); the page
// sends the message again on a new connection; it is stored and shown once.
func TestALostMessageArrivesAfterReconnectingOnce(t *testing.T) {
	for name, cut := range map[string]func(*sioclient.Client){"frozen": (*sioclient.Client).Freeze, "killed": (*sioclient.Client).Kill} {
		for _, mode := range transports {
			t.Run(name+"/"+mode, func(t *testing.T) {
				_, base, _ := startServer(t, roomy(t))
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				b := newPage(t, base, "websocket")
				a := newPage(t, base, mode)
				a.ackWait = 500 * time.Millisecond
				before, err := a.send(ctx, "önce "+name+" "+mode)
				if err != nil {
					t.Fatal(err)
				}
				c, _ := a.current(ctx)
				cut(c)
				id, err := a.send(ctx, "kopukken "+name+" "+mode)
				if err != nil {
					t.Fatal(err)
				}
				a.mu.Lock()
				reconnects := a.reconnects
				a.mu.Unlock()
				if reconnects == 0 {
					t.Fatal("the page did not need a new connection: the cut did not happen")
				}
				view := b.viewUntil(t, id)
				if got := texts(view); !slices.Equal(got[len(got)-2:], []string{"önce " + name + " " + mode, "kopukken " + name + " " + mode}) || view[len(view)-2].ID != before {
					t.Fatalf("the other page shows %q", got)
				}
				if got := texts(a.viewUntil(t, id)); slices.Index(got, "kopukken "+name+" "+mode) != len(got)-1 {
					t.Fatalf("the sender shows %q", got)
				}
			})
		}
	}
}

// TestAServerKilledDuringABurstLosesNothing: the real program is killed
// (SIGKILL) while a page sends a burst, and started again on the same
// file; afterwards every message of the burst is stored and shown once,
// in the order typed.
func TestAServerKilledDuringABurstLosesNothing(t *testing.T) {
	bin := chattest.Build(t, ".")
	env := []string{"DATABASE_PATH=" + filepath.Join(t.TempDir(), "sohbet.db"), "MESSAGE_RATE=1000", "MESSAGE_BURST=1000"}
	proc := chattest.Start(t, bin, env...)
	base := proc.URL
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	sender := newPage(t, base, "websocket")
	other := newPage(t, base, "polling")
	burst := numbered("yağmur", 60)
	if _, err := other.current(ctx); err != nil {
		t.Fatal(err)
	}

	// The page sends the burst; after its 20th acknowledgement the program
	// is killed (SIGKILL) and started again on the same port and file, as
	// a platform restarts a crashed dyno, while the page goes on sending.
	acked := make(chan int64, len(burst))
	sent := make(chan error, 1)
	go func() {
		defer close(acked)
		for i, text := range burst {
			id, err := sender.send(ctx, text)
			if err != nil {
				sent <- fmt.Errorf("message %d: %w", i, err)
				return
			}
			acked <- id
		}
		sent <- nil
	}()
	var ids []int64
	for id := range acked {
		ids = append(ids, id)
		if len(ids) == 20 {
			if _, _, err := proc.Stop(syscall.SIGKILL, 10*time.Second); err != nil {
				t.Fatal(err)
			}
			proc = chattest.StartAt(t, bin, proc.Port, env...)
		}
	}
	if err := <-sent; err != nil {
		t.Fatal(err)
	}
	if !slices.IsSorted(ids) || len(slices.Compact(slices.Clone(ids))) != len(burst) {
		t.Fatalf("ids %v: want one increasing id per message", ids)
	}
	sender.mu.Lock()
	reconnects := sender.reconnects
	sender.mu.Unlock()
	if reconnects == 0 {
		t.Fatal("the sender never lost its connection: the kill came too late")
	}
	last := ids[len(ids)-1]
	for name, p := range map[string]*page{"sender": sender, "other": other} {
		if got := texts(p.viewUntil(t, last)); !slices.Equal(got, burst) {
			t.Fatalf("%s shows %d messages %q, want the burst once, in order", name, len(got), got)
		}
	}
	// The database holds each message once.
	fresh := dialFrom(t, base, "websocket", 0)
	if got := texts(chatsUntil(t, fresh, burst[len(burst)-1])); !slices.Equal(got, burst) {
		t.Fatalf("stored: %q", got)
	}
}

// TestManyPagesWithCutConnectionsSeeEverythingOnce: several pages, on
// every transport, each send a few hundred messages while their
// connections are cut at random (killed or frozen) and restored; at the
// end every page shows every message exactly once, and each sender's in
// the order typed.
func TestManyPagesWithCutConnectionsSeeEverythingOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("a long test")
	}
	srv, base, _ := startServer(t, roomy(t))
	const perPage = 120
	modes := []string{"websocket", "polling", "upgrade", "websocket"}
	pages := make([]*page, len(modes))
	for i, mode := range modes {
		pages[i] = newPage(t, base, mode)
		pages[i].ackWait = 300 * time.Millisecond
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	// The cutter: every few milliseconds one page's connection is killed
	// or frozen, until the senders are done.
	var kills, freezes atomic.Int64
	sending, cutterDone := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(cutterDone)
		tick := time.NewTicker(15 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-sending:
				return
			case <-tick.C:
			}
			p := pages[rand.IntN(len(pages))]
			p.mu.Lock()
			c := p.conn
			p.mu.Unlock()
			if c == nil {
				continue
			}
			if rand.IntN(3) == 0 {
				c.Freeze()
				freezes.Add(1)
			} else {
				go p.drop(c)
				kills.Add(1)
			}
		}
	}()

	var wg sync.WaitGroup
	errs := make(chan error, len(pages))
	for i, p := range pages {
		wg.Go(func() {
			for n := range perPage {
				if _, err := p.send(ctx, fmt.Sprintf("sayfa %d mesaj %d", i, n)); err != nil {
					errs <- fmt.Errorf("page %d message %d: %w", i, n, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(sending)
	<-cutterDone
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	t.Logf("%d pages × %d messages; the connections were killed %d times and frozen %d times", len(pages), perPage, kills.Load(), freezes.Load())

	srv.logMu.Lock()
	last := srv.lastID
	srv.logMu.Unlock()
	stored, _, err := srv.store.replay(ctxFor(t), 0, last, 10*perPage*len(pages))
	if err != nil {
		t.Fatal(err)
	}
	checkEveryMessageOnce(t, "the database", stored, len(pages), perPage)
	for i, p := range pages {
		checkEveryMessageOnce(t, fmt.Sprintf("page %d (%s)", i, p.mode), p.viewUntil(t, last), len(pages), perPage)
	}
}

// checkEveryMessageOnce checks that msgs hold "sayfa i mesaj n" for every
// page i and n exactly once, each page's in order.
func checkEveryMessageOnce(t testing.TB, who string, msgs []message, pages, perPage int) {
	t.Helper()
	next := make([]int, pages)
	for _, m := range msgs {
		var i, n int
		if _, err := fmt.Sscanf(m.Text, "sayfa %d mesaj %d", &i, &n); err != nil || i < 0 || i >= pages {
			t.Fatalf("%s: unexpected message %q", who, m.Text)
		}
		if n != next[i] {
			t.Fatalf("%s: page %d's message %d came where %d was due (a repeat, a gap or a reordering)", who, i, n, next[i])
		}
		next[i]++
	}
	for i, n := range next {
		if n != perPage {
			t.Fatalf("%s: page %d's messages end at %d of %d", who, i, n, perPage)
		}
	}
}
