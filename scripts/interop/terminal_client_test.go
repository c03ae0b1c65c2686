package interop

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"sohbet/internal/chattest"
	"sohbet/internal/repo"
	"sohbet/internal/sioclient"
)

// finalStep returns the folder name of the highest-numbered step, the one
// that is deployed, and its number. It skips the test while that step does
// not broadcast yet (steps before 05), since a chat needs a broadcast.
func finalStep(t *testing.T) (string, int) {
	t.Helper()
	root, err := repo.Root()
	if err != nil {
		t.Fatal(err)
	}
	name, err := repo.FinalStep(root)
	if err != nil {
		t.Fatal(err)
	}
	num, _ := strconv.Atoi(name[:2])
	if num < 5 {
		t.Skipf("the final step %s does not broadcast yet", name)
	}
	return name, num
}

// waitText reads the Go client's "chat message" events until one carries
// want, fails on any other text, and returns the event.
func waitText(ctx context.Context, t *testing.T, c *sioclient.Client, want string) sioclient.Event {
	t.Helper()
	ev, err := c.Next(ctx, "chat message")
	if err != nil {
		t.Fatalf("Go client: waiting for %q: %v", want, err)
	}
	got, err := ev.TextArg(0)
	if err != nil {
		t.Fatalf("Go client: %v", err)
	}
	if got != want {
		t.Fatalf("Go client got %q, want %q", got, want)
	}
	return ev
}

// waitChat is waitText for steps 07 on, and checks the sender too.
func waitChat(ctx context.Context, t *testing.T, c *sioclient.Client, want, from string) {
	t.Helper()
	ev := waitText(ctx, t, c, want)
	var msg struct {
		From string `json:"from"`
	}
	if err := json.Unmarshal(ev.Args[0], &msg); err != nil || msg.From != from {
		t.Fatalf("Go client got %q as %s, want it from %q", want, ev.Args[0], from)
	}
}

// terminalLine is how the terminal client prints a "chat message" event:
// "from: text" for the object of steps 07 on, the text for a string.
func terminalLine(t *testing.T, ev sioclient.Event) string {
	t.Helper()
	text, err := ev.TextArg(0)
	if err != nil {
		t.Fatal(err)
	}
	var msg struct {
		From string `json:"from"`
	}
	if json.Unmarshal(ev.Args[0], &msg) == nil && msg.From != "" {
		return msg.From + ": " + text
	}
	return text
}

// waitLine reads the terminal client's standard output until a line equal
// to want, and fails on any other line.
func waitLine(ctx context.Context, t *testing.T, lines <-chan string, want string) {
	t.Helper()
	select {
	case got, ok := <-lines:
		if !ok {
			t.Fatalf("terminal client ended before printing %q", want)
		}
		if got != want {
			t.Fatalf("terminal client printed %q, want %q", got, want)
		}
	case <-ctx.Done():
		t.Fatalf("terminal client did not print %q: %v", want, ctx.Err())
	}
}

// dialReady connects a Go client over websocket and waits until it is in
// the chat room for sure: from step 07 on, until its "welcome"; before,
// until it receives its own message back.
func dialReady(ctx context.Context, t *testing.T, url string, step int) *sioclient.Client {
	t.Helper()
	if step >= 7 {
		return dialAs(ctx, t, url, "")
	}
	c, err := sioclient.Dial(ctx, url, sioclient.DialOptions{Transport: sioclient.TransportWebsocket})
	if err != nil {
		t.Fatalf("Go client: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	probe := randomText(t, "ready")
	if err := c.Emit("chat message", probe); err != nil {
		t.Fatal(err)
	}
	waitText(ctx, t, c, probe)
	return c
}

// dialAs connects a Go client over websocket that asks for nick in the
// handshake (steps 07 on; "" for a guest), and waits for its "welcome"
// with that name.
func dialAs(ctx context.Context, t *testing.T, base, nick string) *sioclient.Client {
	t.Helper()
	opts := sioclient.DialOptions{Transport: sioclient.TransportWebsocket}
	if nick != "" {
		opts.Query = url.Values{"nick": {nick}}
	}
	c, err := sioclient.Dial(ctx, base, opts)
	if err != nil {
		t.Fatalf("Go client %q: %v", nick, err)
	}
	t.Cleanup(func() { c.Close() })
	if w := nextData[welcomeData](ctx, t, c, "welcome"); nick != "" && w.Nick != nick {
		t.Fatalf("Go client asked for %q and got welcome %+v", nick, w)
	}
	return c
}

// nextData returns the payload of c's next event called name.
func nextData[T any](ctx context.Context, t *testing.T, c *sioclient.Client, name string) T {
	t.Helper()
	ev, err := c.Next(ctx, name)
	if err != nil {
		t.Fatalf("Go client: waiting for %q: %v", name, err)
	}
	if len(ev.Args) != 1 {
		t.Fatalf("Go client: %q with %d arguments, want 1", name, len(ev.Args))
	}
	return decode[T](t, ev.Args[0])
}

// emitAck emits event with arg from a Go client and returns the ack.
func emitAck(ctx context.Context, t *testing.T, c *sioclient.Client, event string, arg any) ackData {
	t.Helper()
	args, err := c.EmitAck(ctx, event, arg)
	if err != nil || len(args) != 1 {
		t.Fatalf("Go client: %s %v: ack %s, %v", event, arg, args, err)
	}
	return decode[ackData](t, args[0])
}

// eventsUntilChat reads c's events until a chat message with text want and
// returns the others it read before it.
func eventsUntilChat(ctx context.Context, t *testing.T, c *sioclient.Client, want string) []sioclient.Event {
	t.Helper()
	var before []sioclient.Event
	for {
		select {
		case ev := <-c.Events():
			if text, err := ev.TextArg(0); ev.Name == "chat message" && err == nil && text == want {
				return before
			}
			before = append(before, ev)
		case <-c.Done():
			t.Fatalf("Go client ended waiting for %q: %v", want, c.Err())
		case <-ctx.Done():
			t.Fatalf("Go client: no %q after %d other events: %v", want, len(before), ctx.Err())
		}
	}
}

// lineLog collects the lines of one output stream as they come.
type lineLog struct {
	mu     sync.Mutex
	lines  []string
	ended  bool
	change chan struct{} // closed and replaced when a line comes or the stream ends
}

func newLineLog() *lineLog { return &lineLog{change: make(chan struct{})} }

func (l *lineLog) collect(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		l.mu.Lock()
		l.lines = append(l.lines, sc.Text())
		close(l.change)
		l.change = make(chan struct{})
		l.mu.Unlock()
	}
	l.mu.Lock()
	l.ended = true
	close(l.change)
	l.mu.Unlock()
}

// next waits for line i. ok is false when the stream ended before it.
func (l *lineLog) next(ctx context.Context, i int) (line string, ok bool, err error) {
	for {
		l.mu.Lock()
		if i < len(l.lines) {
			line := l.lines[i]
			l.mu.Unlock()
			return line, true, nil
		}
		ended, change := l.ended, l.change
		l.mu.Unlock()
		if ended {
			return "", false, nil
		}
		select {
		case <-change:
		case <-ctx.Done():
			return "", false, ctx.Err()
		}
	}
}

func (l *lineLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// terminal is the terminal client running in the background, like a
// person at a keyboard: write lines to it; read what it prints, messages
// on standard output and everything else on standard error.
type terminal struct {
	stdin        io.WriteCloser
	out, errs    *lineLog
	outAt, errAt int // how far the test has read each stream
	done         chan struct{}
	err          error
}

// startTerminal starts `node scripts/terminal-client args...` from the
// repository root. It is killed when ctx or the test ends.
func startTerminal(ctx context.Context, t *testing.T, n node, args ...string) *terminal {
	t.Helper()
	cmd := exec.CommandContext(ctx, n.path, append([]string{filepath.Join("scripts", "terminal-client")}, args...)...)
	cmd.Dir = n.root
	cmd.Env = append(os.Environ(), "NODE_PATH="+filepath.Join(n.root, "node_modules"))
	tc := &terminal{out: newLineLog(), errs: newLineLog(), done: make(chan struct{})}
	var err error
	if tc.stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start the terminal client: %v", err)
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); tc.out.collect(stdout) }()
	go func() { defer wg.Done(); tc.errs.collect(stderr) }()
	go func() {
		wg.Wait() // Wait closes the pipes: read them to the end first
		tc.err = cmd.Wait()
		close(tc.done)
	}()
	t.Cleanup(func() {
		select {
		case <-tc.done:
		default:
			_ = cmd.Process.Kill()
			<-tc.done
		}
		if t.Failed() {
			t.Logf("terminal client stdout:\n%s\nstderr:\n%s", tc.out, tc.errs)
		}
	})
	return tc
}

// send types lines into the terminal client.
func (tc *terminal) send(t *testing.T, lines ...string) {
	t.Helper()
	for _, l := range lines {
		if _, err := fmt.Fprintln(tc.stdin, l); err != nil {
			t.Fatalf("terminal client stdin: %v", err)
		}
	}
}

// expectOut fails unless the next line on standard output is want.
func (tc *terminal) expectOut(ctx context.Context, t *testing.T, want string) {
	t.Helper()
	got, ok, err := tc.out.next(ctx, tc.outAt)
	switch {
	case err != nil:
		t.Fatalf("terminal client did not print %q: %v", want, err)
	case !ok:
		t.Fatalf("terminal client ended before printing %q", want)
	case got != want:
		t.Fatalf("terminal client printed %q, want %q", got, want)
	}
	tc.outAt++
}

// expectErr reads standard error until it has seen every line in wants,
// in any order, skipping others (status lines). A want ending in "…"
// matches any line that starts with the rest; the lines are returned in
// the order of wants.
func (tc *terminal) expectErr(ctx context.Context, t *testing.T, wants ...string) []string {
	t.Helper()
	found := make([]string, len(wants))
	left := len(wants)
	for left > 0 {
		line, ok, err := tc.errs.next(ctx, tc.errAt)
		if err != nil || !ok {
			t.Fatalf("terminal client did not print %q on stderr (%v); it printed:\n%s", wants, err, tc.errs)
		}
		tc.errAt++
		for i, w := range wants {
			prefix, open := strings.CutSuffix(w, "…")
			if found[i] == "" && (line == w || open && strings.HasPrefix(line, prefix)) {
				found[i] = line
				left--
				break
			}
		}
	}
	return found
}

// finish ends the input and waits for a clean exit, with nothing more on
// standard output.
func (tc *terminal) finish(ctx context.Context, t *testing.T) {
	t.Helper()
	tc.stdin.Close()
	select {
	case <-tc.done:
	case <-ctx.Done():
		t.Fatalf("terminal client did not exit: %v", ctx.Err())
	}
	if tc.err != nil {
		t.Fatalf("terminal client exit: %v\nstderr:\n%s", tc.err, tc.errs)
	}
	if _, ok, _ := tc.out.next(ctx, tc.outAt); ok {
		t.Errorf("unexpected lines after EOF: %q", tc.out.lines[tc.outAt:])
	}
}

// whoIsOnline parses the answer to /kim: "çevrimiçi (2): Ali (siz), Veli".
// Nicknames hold no commas, so the list splits cleanly.
func whoIsOnline(t *testing.T, line string) []string {
	t.Helper()
	_, list, ok := strings.Cut(line, "): ")
	if !ok || !strings.HasPrefix(line, "çevrimiçi (") {
		t.Fatalf("/kim printed %q", line)
	}
	return strings.Split(list, ", ")
}

// The message texts below are ASCII on purpose: TestTurkishLettersCrossEveryTransport
// covers Turkish letters on every transport, and this test is about the
// terminal client itself. Nicknames are Turkish, as a learner's are, and
// so is what the client prints about them.
//
// Each subtest has a server of its own: nothing another subtest said (the
// history of step 09 on), nor anyone it left behind, can show up in it.
func TestTerminalClientChatsWithTheFinalStep(t *testing.T) {
	n := needNode(t)
	step, num := finalStep(t)
	bin := chattest.Build(t, filepath.Join("..", "..", "steps", step))
	client := filepath.Join("scripts", "terminal-client")

	for _, transport := range []string{"", "websocket", "polling"} {
		var args []string
		name := "default transport"
		if transport != "" {
			args = []string{"--transport", transport}
			name = transport + " only"
		}
		withURL := func(base string, more ...string) []string {
			return append(append([]string{base}, args...), more...)
		}

		t.Run("a piped line reaches another client before the client exits, "+name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			p := chattest.Start(t, bin)
			g := dialReady(ctx, t, p.URL, num)

			// Like `echo line | node scripts/terminal-client URL`: the
			// input ends at once, before the client has even connected.
			tc := chattest.StartNode(ctx, t, n.path, n.root, client, withURL(p.URL)...)
			line := randomText(t, "piped hello")
			if _, err := fmt.Fprintln(tc.Stdin, line); err != nil {
				t.Fatal(err)
			}
			tc.Stdin.Close()
			for range tc.Lines {
				// Drain the output so the client never blocks on it.
			}
			if err := tc.Wait(ctx); err != nil {
				t.Fatalf("terminal client exit: %v\nstderr:\n%s", err, tc.Stderr())
			}
			waitText(ctx, t, g, line)
		})

		t.Run("prints what others send and sends what is typed, "+name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			p := chattest.Start(t, bin)
			g := dialReady(ctx, t, p.URL, num)
			tc := chattest.StartNode(ctx, t, n.path, n.root, client, withURL(p.URL)...)

			// Its own line comes back to it too: then it is in the room.
			// From step 07 on it prints "from: text".
			typed := randomText(t, "typed hello")
			if _, err := fmt.Fprintln(tc.Stdin, typed); err != nil {
				t.Fatal(err)
			}
			ev := waitText(ctx, t, g, typed)
			waitLine(ctx, t, tc.Lines, terminalLine(t, ev))

			sent := randomText(t, "hello from Go")
			if err := g.Emit("chat message", sent); err != nil {
				t.Fatal(err)
			}
			ev = waitText(ctx, t, g, sent)
			waitLine(ctx, t, tc.Lines, terminalLine(t, ev))

			// An empty line is not sent: the next message is the one after.
			after := randomText(t, "after empty lines")
			if _, err := fmt.Fprint(tc.Stdin, "\n   \n"+after+"\n"); err != nil {
				t.Fatal(err)
			}
			ev = waitText(ctx, t, g, after)
			waitLine(ctx, t, tc.Lines, terminalLine(t, ev))

			tc.Stdin.Close()
			for l := range tc.Lines {
				t.Errorf("unexpected line after EOF: %q", l)
			}
			if err := tc.Wait(ctx); err != nil {
				t.Fatalf("terminal client exit: %v\nstderr:\n%s", err, tc.Stderr())
			}
		})

		if num < 7 {
			continue // no nicknames before step 07
		}

		t.Run("--nick names the sender, /kim and /ad work, others' comings and goings are printed, "+name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			p := chattest.Start(t, bin)
			s := runSuffix(t)
			isik, cinar, deniz := "Işık "+s, "Çınar "+s, "Deniz "+s
			g := dialAs(ctx, t, p.URL, isik)
			tc := startTerminal(ctx, t, n, withURL(p.URL, "--nick", cinar)...)
			tc.expectErr(ctx, t, "takma adınız: "+cinar+" · …")
			if j := nextData[nickData](ctx, t, g, "user joined"); j.Nick != cinar {
				t.Fatalf("the Go client saw %q join, want %q", j.Nick, cinar)
			}

			hello := randomText(t, "hello")
			tc.send(t, hello)
			waitChat(ctx, t, g, hello, cinar)
			tc.expectOut(ctx, t, cinar+": "+hello)

			tc.send(t, "/kim")
			who := whoIsOnline(t, tc.expectErr(ctx, t, "çevrimiçi (…")[0])
			if !slices.Contains(who, cinar+" (siz)") || !slices.Contains(who, isik) {
				t.Errorf("/kim listed %q, want %q (siz) and %q among them", who, cinar, isik)
			}

			// "ışık" is "Işık" in Turkish lower case: taken.
			tc.send(t, "/ad ışık "+s)
			tc.expectErr(ctx, t, "takma ad seçilemedi: "+nickTaken+".")
			tc.send(t, "/ad "+deniz)
			tc.expectErr(ctx, t, "takma adınız artık "+deniz, "* "+cinar+" artık "+deniz+" adını kullanıyor.")
			if r := nextData[renameData](ctx, t, g, "nickname changed"); r != (renameData{From: cinar, To: deniz}) {
				t.Fatalf("the Go client saw the rename %+v", r)
			}

			ekin := "Ekin " + s
			h := dialAs(ctx, t, p.URL, ekin)
			tc.expectErr(ctx, t, "* "+ekin+" katıldı.")
			h.Close()
			tc.expectErr(ctx, t, "* "+ekin+" ayrıldı.")
			isil := "Işıl " + s
			if ack := emitAck(ctx, t, g, "set nickname", isil); !ack.OK {
				t.Fatalf("the Go client's rename: %+v", ack)
			}
			tc.expectErr(ctx, t, "* "+isik+" artık "+isil+" adını kullanıyor.")

			tc.send(t, "/kim")
			who = whoIsOnline(t, tc.expectErr(ctx, t, "çevrimiçi (…")[0])
			if !slices.Contains(who, deniz+" (siz)") || !slices.Contains(who, isil) ||
				slices.ContainsFunc(who, func(w string) bool { return strings.Contains(w, s) && w != deniz+" (siz)" && w != isil }) {
				t.Errorf("/kim listed %q, want %q (siz) and %q, and no one else of this test", who, deniz, isil)
			}

			bye := randomText(t, "bye")
			tc.send(t, bye)
			waitChat(ctx, t, g, bye, deniz)
			tc.expectOut(ctx, t, deniz+": "+bye)
			tc.finish(ctx, t)
		})

		t.Run("piped commands run in order and their answers are printed before the client exits, "+name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			p := chattest.Start(t, bin)
			s := runSuffix(t)
			gozcu, hat := "Gözcü "+s, "Hat "+s
			g := dialAs(ctx, t, p.URL, gozcu)
			tc := startTerminal(ctx, t, n, withURL(p.URL, "--nick", "Boru "+s)...)
			hello := randomText(t, "piped hello")
			tc.send(t, "/ad "+hat, "/kim", hello, "/ad")
			tc.stdin.Close()
			select {
			case <-tc.done:
			case <-ctx.Done():
				t.Fatalf("terminal client did not exit: %v", ctx.Err())
			}
			if tc.err != nil {
				t.Fatalf("terminal client exit: %v", tc.err)
			}
			got := tc.expectErr(ctx, t, "takma adınız artık "+hat, "çevrimiçi (…", "takma adınız: "+hat)
			if who := whoIsOnline(t, got[1]); !slices.Contains(who, hat+" (siz)") || !slices.Contains(who, gozcu) {
				t.Errorf("/kim after /ad listed %q, want %q (siz) and %q", who, hat, gozcu)
			}
			lines := strings.Split(tc.errs.String(), "\n")
			if a, b, c := slices.Index(lines, got[0]), slices.Index(lines, got[1]), slices.Index(lines, got[2]); a > b || b > c {
				t.Errorf("the answers came out of order:\n%s", tc.errs)
			}
			waitChat(ctx, t, g, hello, hat)
		})

		t.Run("after the server restarts the client asks for its nickname again and prints no message twice, "+name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			// Both servers keep their messages in one file (step 09 on;
			// earlier steps ignore the variable): the second one has the
			// first one's history, and must not send it again.
			db := "DATABASE_PATH=" + filepath.Join(t.TempDir(), "sohbet.db")
			srv := chattest.Start(t, bin, db)
			s := runSuffix(t)
			gizem := "Gizem " + s
			tc := startTerminal(ctx, t, n, withURL(srv.URL, "--nick", "Ferhat "+s)...)
			tc.expectErr(ctx, t, "takma adınız: Ferhat "+s+" · …")
			tc.send(t, "/ad "+gizem)
			tc.expectErr(ctx, t, "takma adınız artık "+gizem)
			before := randomText(t, "before")
			tc.send(t, before)
			tc.expectOut(ctx, t, gizem+": "+before)

			if code, _, err := srv.Stop(syscall.SIGTERM, 20*time.Second); err != nil || code != 0 {
				t.Fatalf("stopping the server: exit %d, %v", code, err)
			}
			tc.expectErr(ctx, t, "sunucu: Sunucu yeniden başlıyor…")
			tc.expectErr(ctx, t, "bağlantı koptu: …")
			// The same port again: a later PORT wins in a process's
			// environment, so Start's free port is overridden.
			chattest.Start(t, bin, db, "PORT="+strconv.Itoa(srv.Port))
			tc.expectErr(ctx, t, "takma adınız: "+gizem+" · …")

			// The next line is the new message, under the nickname chosen
			// with /ad: not the one before the restart, a second time.
			back := randomText(t, "back")
			tc.send(t, back)
			tc.expectOut(ctx, t, gizem+": "+back)
			tc.finish(ctx, t)
		})

		if num < 8 {
			continue // no private messages before step 08
		}

		t.Run("/ozel reaches exactly the recipient and the sender, private messages are printed, typing is not, "+name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			p := chattest.Start(t, bin)
			s := runSuffix(t)
			// The recipient's name has a space: /ozel finds it in the list.
			goAli, uc := "Go Ali "+s, "Uç "+s
			rcpt := dialAs(ctx, t, p.URL, goAli)
			third := dialAs(ctx, t, p.URL, "Üçüncü "+s)
			tc := startTerminal(ctx, t, n, withURL(p.URL, "--nick", uc)...)
			tc.expectErr(ctx, t, "takma adınız: "+uc+" · …")

			secret := randomText(t, "secret")
			tc.send(t, "/ozel "+goAli+" "+secret)
			tc.expectOut(ctx, t, "[özel] "+uc+" → "+goAli+": "+secret)
			want := privateData{From: uc, To: goAli, Text: secret}
			if pm := nextData[privateData](ctx, t, rcpt, "private message"); pm.At == 0 || (privateData{From: pm.From, To: pm.To, Text: pm.Text}) != want {
				t.Fatalf("the recipient got %+v, want %+v", pm, want)
			}
			// A public message after it reaches each in order: a private
			// message sent by mistake (or twice), or a typing event from
			// the terminal client, would come before it.
			public := randomText(t, "public")
			tc.send(t, public)
			tc.expectOut(ctx, t, uc+": "+public)
			for _, c := range []*sioclient.Client{rcpt, third} {
				for _, ev := range eventsUntilChat(ctx, t, c, public) {
					if ev.Name == "private message" || ev.Name == "typing" {
						t.Errorf("a Go client got %q %s before the public message", ev.Name, ev.Args)
					}
				}
			}

			tc.send(t, "/ozel Yok"+s+" hello")
			if got := tc.expectErr(ctx, t, "özel mesaj gönderilmedi: …")[0]; got == "özel mesaj gönderilmedi: ." {
				t.Errorf("the refusal of an unknown recipient has no reason: %q", got)
			}

			// The recipient answers, naming the terminal in capitals, then
			// types, then writes a line that tries to forge another one.
			// The servers relay tabs and line breaks (and refuse other
			// control characters); the terminal prints them made visible,
			// and nothing for the typing.
			if ack := emitAck(ctx, t, rcpt, "private message", map[string]string{"to": "UÇ " + s, "text": "answer\tnow"}); !ack.OK {
				t.Fatalf("the recipient's answer: %+v", ack)
			}
			tc.expectOut(ctx, t, "[özel] "+goAli+" → "+uc+": answer\\u0009now")
			if err := rcpt.Emit("typing", true); err != nil {
				t.Fatal(err)
			}
			forged := "hi\r\n* Admin katıldı. " + s
			if err := rcpt.Emit("chat message", forged); err != nil {
				t.Fatal(err)
			}
			tc.expectOut(ctx, t, goAli+": hi\\u000d\\u000a* Admin katıldı. "+s)
			tc.finish(ctx, t)
			if strings.Contains(tc.errs.String(), "yazıyor") {
				t.Errorf("a piped terminal client printed a typing notice:\n%s", tc.errs)
			}
		})
	}
}
