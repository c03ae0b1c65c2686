package main

// Tests of one chat across several processes: real servers, a real Redis
// (redis-server, started on a free port), a shared database (a SQLite
// file, or PostgreSQL), real Socket.IO clients.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"sohbet/internal/chattest"
	"sohbet/internal/sioclient"
)

// startCluster starts n servers on one Redis and on cfg's database, and
// returns them with their URLs once each has subscribed.
func startCluster(t *testing.T, n int, redisURL string, cfg config) ([]*server, []string) {
	t.Helper()
	cfg.redisURL = redisURL
	var servers []*server
	var bases []string
	for range n {
		s, base, _ := startServer(t, cfg)
		servers = append(servers, s)
		bases = append(bases, base)
	}
	for i, s := range servers {
		if !chattest.Eventually(10*time.Second, s.cluster.up.Load) {
			t.Fatalf("server %d never subscribed to Redis", i)
		}
	}
	return servers, bases
}

// onlineOf is everyone a server knows to be online: its own users and the
// other processes'.
func onlineOf(s *server) []string {
	s.hub.mu.RLock()
	defer s.hub.mu.RUnlock()
	var users []string
	for _, c := range s.hub.clients {
		users = append(users, c.nick)
	}
	for _, p := range s.hub.peers {
		for _, nick := range p.users {
			users = append(users, nick)
		}
	}
	slices.Sort(users)
	return users
}

// waitOnline waits until every server knows exactly want to be online.
func waitOnline(t *testing.T, servers []*server, want ...string) {
	t.Helper()
	slices.Sort(want)
	for i, s := range servers {
		if !chattest.Eventually(10*time.Second, func() bool { return slices.Equal(onlineOf(s), want) }) {
			t.Fatalf("server %d has %q online, want %q", i, onlineOf(s), want)
		}
	}
}

// clusterDatabases are the databases a cluster can share: one SQLite
// file (processes on one machine), or PostgreSQL.
var clusterDatabases = []struct {
	name string
	cfg  func(t testing.TB) config
}{
	{"sqlite", roomy},
	{"postgres", func(t testing.TB) config {
		cfg := roomy(t)
		cfg.databaseURL = chattest.StartPostgres(t).URL
		return cfg
	}},
}

// TestThreeProcessesAreOneChat: clients on three processes chat as if on
// one. Every public message reaches every client exactly once, in id
// order; a private message reaches its recipient on another process and
// nobody else; everyone sees the same online list; a nickname taken on
// one process is refused on another.
func TestThreeProcessesAreOneChat(t *testing.T) {
	for _, db := range clusterDatabases {
		for _, mode := range []string{"websocket", "polling"} {
			t.Run(db.name+"/"+mode, func(t *testing.T) {
				r := chattest.StartRedis(t)
				servers, bases := startCluster(t, 3, r.URL, db.cfg(t))
				ali := dialAs(t, bases[0], mode, "Ali")
				ayse := dialAs(t, bases[1], mode, "Ayşe")
				can := dialAs(t, bases[2], mode, "Can")
				waitOnline(t, servers, "Ali", "Ayşe", "Can")

				// Someone new on any process is welcomed with everyone.
				late := dialAs(t, bases[1], mode, "Deniz")
				if got := nextWelcome(t, late).Users; !slices.Equal(got, []string{"Ali", "Ayşe", "Can", "Deniz"}) {
					t.Fatalf("welcome on process 1 lists %q", got)
				}
				waitOnline(t, servers, "Ali", "Ayşe", "Can", "Deniz")

				// The three send at once, so ids interleave across processes.
				clients := []*sioclient.Client{ali, ayse, can, late}
				const each = 10
				var wg sync.WaitGroup
				var mu sync.Mutex
				var acked []int64
				for i, c := range clients[:3] {
					wg.Go(func() {
						for n := range each {
							ack := sendAck(t, c, fmt.Sprintf("süreç %d mesaj %d", i, n), newOffset())
							if !ack.OK {
								t.Errorf("process %d message %d refused: %s", i, n, ack.Error)
								return
							}
							mu.Lock()
							acked = append(acked, ack.ID)
							mu.Unlock()
						}
					})
				}
				wg.Wait()
				slices.Sort(acked)
				if ack := sendAck(t, can, "son", newOffset()); !ack.OK {
					t.Fatalf("last message refused: %s", ack.Error)
				}
				for i, c := range clients {
					got := chatsUntil(t, c, "son")
					var ids []int64
					for _, m := range got[:len(got)-1] {
						ids = append(ids, m.ID)
					}
					if !slices.Equal(ids, acked) {
						t.Fatalf("client %d got ids %v, want each of %v once, in order", i, ids, acked)
					}
				}

				// A private message from process 0 to process 1, then a
				// public one: Can and Deniz see only the public one.
				if ack := sendPrivate(t, ali, map[string]string{"to": "ayşe", "text": "gizli"}); !ack.OK {
					t.Fatalf("private message refused: %s", ack.Error)
				}
				pm := decodeArg[privatePayload](t, nextEvent(t, ayse, "private message"))
				if pm.From != "Ali" || pm.To != "Ayşe" || pm.Text != "gizli" {
					t.Fatalf("Ayşe got %+v", pm)
				}
				if mine := decodeArg[privatePayload](t, nextEvent(t, ali, "private message")); mine != pm {
					t.Fatalf("Ali's copy %+v, Ayşe's %+v", mine, pm)
				}
				sendAck(t, ali, "herkese", newOffset())
				for _, c := range []*sioclient.Client{can, late} {
					for _, ev := range eventsUntil(t, c, "chat message") {
						if ev.Name == "private message" {
							t.Fatalf("a third client got the private message: %s", ev.Args)
						}
					}
				}

				// "Ali" is taken on process 0: process 2 refuses it, in any
				// case, both as a rename and on connecting.
				if ack := setNick(t, can, "ALİ"); ack.OK || ack.Error != errNickTaken.Error() {
					t.Fatalf("renaming to ALİ on process 2: %+v", ack)
				}
				guest := nextWelcome(t, dialAs(t, bases[2], mode, "ali")).Nick
				if !strings.HasPrefix(guest, guestPrefix) {
					t.Fatalf("connecting as ali on process 2 got %q, want a guest name", guest)
				}
				// A rename travels too, and frees the old name everywhere
				// (once every process has heard of it).
				if ack := setNick(t, ali, "Alican"); !ack.OK {
					t.Fatalf("Ali → Alican: %+v", ack)
				}
				if ev := decodeArg[renamed](t, nextEvent(t, ayse, "nickname changed")); ev.From != "Ali" || ev.To != "Alican" {
					t.Fatalf("Ayşe heard %+v", ev)
				}
				waitOnline(t, servers, "Alican", "Ayşe", "Can", "Deniz", guest)
				if ack := setNick(t, can, "Ali"); !ack.OK {
					t.Fatalf("Ali, freed on process 0, refused on process 2: %+v", ack)
				}

				// Heroku's smallest Key-Value Store plan allows 20
				// connections: three processes must stay within it.
				if n, limit := redisClients(t, r.URL)-1, 3*(redisPoolSize+1); n > limit {
					t.Fatalf("three processes hold %d Redis connections, want at most %d", n, limit)
				} else {
					t.Logf("three processes hold %d Redis connections (at most %d)", n, limit)
				}
			})
		}
	}
}

// TestTypingCrossesProcesses: "is typing" reaches the others on another
// process, and not the typer.
func TestTypingCrossesProcesses(t *testing.T) {
	r := chattest.StartRedis(t)
	servers, bases := startCluster(t, 2, r.URL, roomy(t))
	ali := dialAs(t, bases[0], "websocket", "Ali")
	ayse := dialAs(t, bases[1], "polling", "Ayşe")
	waitOnline(t, servers, "Ali", "Ayşe")
	if err := ali.Emit("typing", true); err != nil {
		t.Fatal(err)
	}
	if ev := decodeArg[typingNotice](t, nextEvent(t, ayse, "typing")); ev.Nick != "Ali" || !ev.Typing {
		t.Fatalf("Ayşe got %+v", ev)
	}
	sendAck(t, ayse, "tamam", newOffset())
	for _, ev := range eventsUntil(t, ali, "chat message") {
		if ev.Name == "typing" {
			t.Fatalf("the typer heard itself: %s", ev.Args)
		}
	}
}

// redisClients asks Redis how many clients are connected, this one
// included.
func redisClients(t *testing.T, redisURL string) int {
	t.Helper()
	opts, err := redis.ParseURL(redisURL)
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opts)
	defer rdb.Close()
	info, err := rdb.Info(context.Background(), "clients").Result()
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(info) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "connected_clients:"); ok {
			n, err := strconv.Atoi(v)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatalf("INFO clients has no connected_clients:\n%s", info)
	return 0
}

// healthOf returns a server's /healthz.
func healthOf(t *testing.T, base string) health {
	t.Helper()
	resp, err := http.Get(base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var h health
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
		t.Fatal(err)
	}
	return h
}

// TestRedisStoppedWhileMessagesFlowLosesNothing: Redis stops for a while
// and starts again, empty, while two pages on each of two processes send.
// In between, /healthz says "degraded" and every process keeps serving
// its own users; afterwards every page has every message exactly once, in
// id order.
func TestRedisStoppedWhileMessagesFlowLosesNothing(t *testing.T) {
	r := chattest.StartRedis(t)
	servers, bases := startCluster(t, 2, r.URL, roomy(t))
	pages := []*page{
		newPage(t, bases[0], "websocket"), newPage(t, bases[0], "polling"),
		newPage(t, bases[1], "websocket"), newPage(t, bases[1], "polling"),
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, p := range pages {
		if _, err := p.current(ctx); err != nil {
			t.Fatal(err)
		}
	}

	// Each page sends until told to stop; acked counts what got through.
	var mu sync.Mutex
	var acked []int64
	count := func() int { mu.Lock(); defer mu.Unlock(); return len(acked) }
	stop := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, len(pages))
	for i, p := range pages {
		wg.Go(func() {
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				id, err := p.send(ctx, fmt.Sprintf("sayfa %d mesaj %d", i, n))
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				acked = append(acked, id)
				mu.Unlock()
			}
		})
	}
	waitAcked := func(n int, what string) {
		t.Helper()
		if !chattest.Eventually(30*time.Second, func() bool { return count() >= n }) {
			t.Fatalf("%s: %d messages acknowledged, want %d", what, count(), n)
		}
	}

	waitAcked(40, "before the outage")
	r.Stop(t)
	for i, base := range bases {
		if !chattest.Eventually(2*presenceTTL, func() bool { return healthOf(t, base).Status == "degraded" }) {
			t.Fatalf("process %d: /healthz = %+v, want degraded", i, healthOf(t, base))
		}
		if h := healthOf(t, base); h.Redis != "unreachable" || h.Database != "ok" {
			t.Fatalf("process %d: /healthz = %+v", i, h)
		}
	}
	// A few seconds without Redis, while the pages go on sending. Each
	// process still shows the other's messages: it reads them from the
	// database every retryEvery.
	outage := time.After(3 * time.Second)
	waitAcked(count()+40, "during the outage")
	mu.Lock()
	sentDuring := slices.Max(acked)
	mu.Unlock()
	for i, s := range servers {
		if !chattest.Eventually(10*time.Second, func() bool {
			s.logMu.Lock()
			defer s.logMu.Unlock()
			return s.lastID >= sentDuring
		}) {
			t.Fatalf("process %d did not get id %d during the outage", i, sentDuring)
		}
	}
	<-outage
	r.Restart(t)
	for i, s := range servers {
		if !chattest.Eventually(10*time.Second, s.cluster.up.Load) {
			t.Fatalf("process %d did not subscribe again", i)
		}
		if h := healthOf(t, bases[i]); h.Status != "ok" || h.Redis != "ok" {
			t.Fatalf("process %d after the restart: /healthz = %+v", i, h)
		}
	}
	waitAcked(count()+40, "after the outage")
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	slices.Sort(acked)
	last := acked[len(acked)-1]
	t.Logf("%d messages acknowledged", len(acked))
	for i, p := range pages {
		var ids []int64
		for _, m := range p.viewUntil(t, last) {
			ids = append(ids, m.ID)
		}
		p.mu.Lock()
		repeats := p.repeats
		p.mu.Unlock()
		if !slices.Equal(ids, acked) || repeats > 0 {
			t.Fatalf("page %d (%s) shows %d messages, %d repeated or out of order; want each of %d once, in order",
				i, p.mode, len(ids), repeats, len(acked))
		}
	}
}

// TestAKilledProcessesUsersMoveToAnother: two real processes; one is
// killed (SIGKILL: no goodbye). Its users leave the other's list within
// presenceTTL + heartbeatEvery; they connect to the other process and
// keep their nickname and the messages they missed.
func TestAKilledProcessesUsersMoveToAnother(t *testing.T) {
	r := chattest.StartRedis(t)
	bin := chattest.Build(t, ".")
	env := []string{"REDIS_URL=" + r.URL, "DATABASE_PATH=" + filepath.Join(t.TempDir(), "sohbet.db"),
		"MESSAGE_RATE=1000", "MESSAGE_BURST=1000"}
	doomed := chattest.Start(t, bin, env...)
	survivor := chattest.Start(t, bin, env...)
	for _, p := range []*chattest.Process{doomed, survivor} {
		if err := p.WaitLog("Redis'e bağlandı", 10*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	ayse := dialAs(t, survivor.URL, "polling", "Ayşe")
	ali := dialAs(t, doomed.URL, "websocket", "Ali")
	if ev := decodeArg[presence](t, nextEvent(t, ayse, "user joined")); ev.Nick != "Ali" {
		t.Fatalf("Ayşe heard %+v join", ev)
	}
	seen := sendAck(t, ali, "birazdan gidiyorum", newOffset())
	if m := nextPayload(t, ayse); m.ID != seen.ID {
		t.Fatalf("Ayşe got %+v, want id %d", m, seen.ID)
	}
	nextPayload(t, ali)

	if _, _, err := doomed.Stop(syscall.SIGKILL, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	ali.Kill()
	ctx, cancel := context.WithTimeout(context.Background(), presenceTTL+heartbeatEvery+5*time.Second)
	defer cancel()
	for {
		ev, err := ayse.Next(ctx, "user left")
		if err != nil {
			t.Fatalf("Ali never left Ayşe's list: %v", err)
		}
		if decodeArg[presence](t, ev).Nick == "Ali" {
			break
		}
	}
	took := time.Since(killed)
	t.Logf("Ali left Ayşe's list %v after the kill", took.Round(time.Millisecond))
	// The bound holds from the last heartbeat heard; a machine loaded by
	// other tests may deliver that heartbeat, or run the check, a little
	// late: 2 s of slack.
	if bound := presenceTTL + heartbeatEvery + 2*time.Second; took > bound {
		t.Fatalf("Ali left after %v, over the stated bound %v (+2 s)", took, presenceTTL+heartbeatEvery)
	}

	// While Ali is away, Ayşe writes; Ali comes back on the survivor with
	// the last id it showed, and its name.
	missed := sendAck(t, ayse, "sen yokken", newOffset())
	back := dial(t, survivor.URL, "websocket", sioclient.DialOptions{Query: url.Values{
		"nick": {"Ali"}, "offset": {strconv.FormatInt(seen.ID, 10)}}})
	if w := nextWelcome(t, back); w.Nick != "Ali" {
		t.Fatalf("Ali came back as %q", w.Nick)
	}
	ctx2, cancel2 := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel2()
	ev, err := back.Next(ctx2, "chat message")
	if err != nil {
		t.Fatal(err)
	}
	if m := decodeArg[message](t, ev); m.ID != missed.ID || m.Text != "sen yokken" {
		t.Fatalf("Ali's first message back: %+v, want id %d", m, missed.ID)
	}

	// Can is on a second doomed process, killed too; his page comes back
	// on the survivor at once, while the dead process still holds "Can":
	// he is a guest until the claim expires, then asks for his name. When
	// the dead process is forgotten, Can must stay on Ayşe's list.
	doomed = chattest.Start(t, bin, env...)
	if err := doomed.WaitLog("Redis'e bağlandı", 10*time.Second); err != nil {
		t.Fatal(err)
	}
	can := dialAs(t, doomed.URL, "polling", "Can")
	for {
		if ev := decodeArg[presence](t, nextEvent(t, ayse, "user joined")); ev.Nick == "Can" {
			break
		}
	}
	if _, _, err := doomed.Stop(syscall.SIGKILL, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	killed = time.Now()
	can.Kill()
	can = dialAs(t, survivor.URL, "websocket", "Can")
	if !chattest.Eventually(presenceTTL+heartbeatEvery, func() bool { return setNick(t, can, "Can").OK }) {
		t.Fatal("Can never got his name back")
	}
	t.Logf("Can had his name back %v after the kill", time.Since(killed).Round(time.Millisecond))
	// Ayşe's list, from her events, until the dead process is surely
	// forgotten.
	list := map[string]bool{"Ali": true, "Ayşe": true, "Can": true}
	forgotten := time.After(time.Until(killed.Add(presenceTTL + heartbeatEvery + time.Second)))
	for done := false; !done; {
		select {
		case ev := <-ayse.Events():
			switch ev.Name {
			case "user joined":
				list[decodeArg[presence](t, ev).Nick] = true
			case "user left":
				delete(list, decodeArg[presence](t, ev).Nick)
			case "nickname changed":
				r := decodeArg[renamed](t, ev)
				delete(list, r.From)
				list[r.To] = true
			}
		case <-forgotten:
			done = true
		}
	}
	if !list["Can"] || !list["Ali"] || len(list) != 3 {
		t.Fatalf("Ayşe's list after the dead process was forgotten: %v, want Ali, Ayşe and Can", list)
	}
}

// TestRedisOverTLS: as on Heroku, Redis speaks only TLS (rediss://) with a
// self-signed certificate; the processes connect and chat.
func TestRedisOverTLS(t *testing.T) {
	r := chattest.StartRedisTLS(t)
	if !strings.HasPrefix(r.URL, "rediss://") {
		t.Fatalf("URL %s, want rediss://", r.URL)
	}
	servers, bases := startCluster(t, 2, r.URL, roomy(t))
	ali := dialAs(t, bases[0], "websocket", "Ali")
	ayse := dialAs(t, bases[1], "websocket", "Ayşe")
	waitOnline(t, servers, "Ali", "Ayşe")
	ack := sendAck(t, ali, "şifreli yoldan", newOffset())
	if m := nextPayload(t, ayse); m.ID != ack.ID || m.Text != "şifreli yoldan" {
		t.Fatalf("Ayşe got %+v, want id %d", m, ack.ID)
	}
	if h := healthOf(t, bases[1]); h.Status != "ok" || h.Redis != "ok" {
		t.Fatalf("/healthz = %+v", h)
	}
}

// TestAGarbledEnvelopeIsIgnored: something other than a process writes
// to the channel; the processes log it, skip it and go on.
func TestAGarbledEnvelopeIsIgnored(t *testing.T) {
	r := chattest.StartRedis(t)
	servers, bases := startCluster(t, 2, r.URL, roomy(t))
	opts, err := redis.ParseURL(r.URL)
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opts)
	defer rdb.Close()
	// The last one is a chat message with an id the database never gave:
	// it must not hold back the real ones for ever.
	for _, junk := range []string{"{", `{"proc":"x","kind":"chat"}`, `{"proc":"x","kind":"private"}`, `{"proc":"x","kind":"bilinmeyen"}`, `[1,2]`,
		`{"proc":"x","kind":"chat","message":{"id":1000000000,"from":"Sahte","text":"sahte"}}`} {
		if err := rdb.Publish(context.Background(), eventsChannel, junk).Err(); err != nil {
			t.Fatal(err)
		}
	}
	ali := dialAs(t, bases[0], "polling", "Ali")
	ayse := dialAs(t, bases[1], "websocket", "Ayşe")
	waitOnline(t, servers, "Ali", "Ayşe")
	ack := sendAck(t, ayse, "hâlâ buradayız", newOffset())
	if m := nextPayload(t, ali); m.ID != ack.ID {
		t.Fatalf("Ali got %+v, want id %d", m, ack.ID)
	}
	for i, s := range servers {
		if !chattest.Eventually(5*time.Second, func() bool {
			s.logMu.Lock()
			defer s.logMu.Unlock()
			return len(s.pending) == 0
		}) {
			t.Fatalf("server %d still holds the forged message", i)
		}
	}
}
