// Command deploycheck checks that a running chat answers the way the
// course's deployed step must: GET /healthz says "ok", the page and the
// pinned socket.io-client are served, and Socket.IO sessions open over
// long-polling, by an upgrade to WebSocket, and over WebSocket alone. It
// sends no chat message and says goodbye on every session, so it is safe
// to point at a live app that people are using.
//
//	go run ./scripts/deploycheck -timeout 5m https://my-app.herokuapp.com
//
// The GitHub Actions deploy job runs it right after pushing to Heroku. The
// tests in this folder run the very same checks against the binary that
// Heroku would build, started the way Heroku would start it, and they also
// check that the deploy target is the same in every file that names it.
package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"mime"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"sohbet/internal/sioclient"
	"sohbet/third_party/socketioclient"
)

// routerIdleTimeout is how long Heroku's router keeps a silent connection
// open; the server's Engine.IO pings must come more often than that.
const routerIdleTimeout = 55 * time.Second

// requestTimeout bounds each single request of the check.
const requestTimeout = 15 * time.Second

// target is what checkApp talks to and how.
type target struct {
	// base is the app's address, for example https://my-app.herokuapp.com.
	base *url.URL
	// origin is sent as Origin on the Socket.IO requests, as the page's
	// own browser would send it.
	origin string
	// healthWait is how long to keep retrying GET /healthz: a fresh
	// release takes a while to start.
	healthWait time.Duration
	// retryEvery is the pause between /healthz attempts.
	retryEvery time.Duration
	// logf reports progress.
	logf func(format string, args ...any)
}

func main() {
	timeout := flag.Duration("timeout", 5*time.Minute, "how long to keep retrying GET /healthz before giving up")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: deploycheck [-timeout 5m] APP_URL\n\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	base, err := parseBase(flag.Arg(0))
	if err != nil {
		log.Fatal(err)
	}
	tg := target{
		base:       base,
		origin:     base.Scheme + "://" + base.Host,
		retryEvery: 10 * time.Second,
		logf:       log.Printf,
	}

	tg.healthWait = *timeout
	if err := checkApp(context.Background(), tg); err != nil {
		log.Fatalf("FAIL: %v", err)
	}
	log.Printf("OK: %s answers like the deployed step", base)
}

// parseBase accepts an app URL with or without a trailing slash.
func parseBase(raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimRight(strings.TrimSpace(raw), "/"))
	if err != nil {
		return nil, err
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" {
		return nil, fmt.Errorf("%q is not an app URL like https://my-app.herokuapp.com", raw)
	}
	return u, nil
}

// checkApp runs every check in order and returns the first failure. It
// first waits up to tg.healthWait for /healthz to answer "ok".
func checkApp(ctx context.Context, tg target) error {
	wctx, cancel := context.WithTimeout(ctx, tg.healthWait)
	health, err := waitHealthy(wctx, tg)
	cancel()
	if err != nil {
		return err
	}
	tg.logf("ok: GET /healthz -> %s", health)

	if err := checkPage(ctx, tg); err != nil {
		return err
	}
	tg.logf("ok: GET / serves the chat page")

	if err := checkClientBundle(ctx, tg); err != nil {
		return err
	}
	tg.logf("ok: GET %s serves socket.io-client %s (sha256 matches)", socketioclient.Path, socketioclient.Version)

	return checkSessions(ctx, tg)
}

// get performs one GET with requestTimeout and returns status, headers
// and a body of at most 4 MiB.
func (tg target) get(ctx context.Context, path string) (int, http.Header, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, tg.base.String()+path, nil)
	if err != nil {
		return 0, nil, nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return 0, nil, nil, fmt.Errorf("GET %s: reading body: %w", path, err)
	}
	return resp.StatusCode, resp.Header, body, nil
}

// waitHealthy polls GET /healthz until it answers 200 with JSON whose
// status is "ok", and returns that body.
func waitHealthy(ctx context.Context, tg target) (string, error) {
	var last error
	for attempt := 1; ; attempt++ {
		body, err := checkHealth(ctx, tg)
		if err == nil {
			return body, nil
		}
		// Report a new kind of failure once, not every attempt.
		if last == nil || err.Error() != last.Error() {
			tg.logf("waiting for /healthz (attempt %d): %v", attempt, err)
		}
		last = err
		pause := time.NewTimer(tg.retryEvery)
		select {
		case <-ctx.Done():
			pause.Stop()
			return "", fmt.Errorf("GET /healthz never answered \"ok\" (%d attempts): %w", attempt, last)
		case <-pause.C:
		}
	}
}

// checkHealth makes one /healthz request.
func checkHealth(ctx context.Context, tg target) (string, error) {
	status, hdr, body, err := tg.get(ctx, "/healthz")
	if err != nil {
		return "", err
	}
	if status != http.StatusOK {
		return "", fmt.Errorf("GET /healthz: status %d: %.200s", status, body)
	}
	if mt, _, _ := mime.ParseMediaType(hdr.Get("Content-Type")); mt != "application/json" {
		return "", fmt.Errorf("GET /healthz: Content-Type %q, want application/json", hdr.Get("Content-Type"))
	}
	var h struct {
		Status string `json:"status"`
	}
	if err := json.Unmarshal(body, &h); err != nil {
		return "", fmt.Errorf("GET /healthz: %w: %.200s", err, body)
	}
	if h.Status != "ok" {
		return "", fmt.Errorf("GET /healthz: status %q, want \"ok\"", h.Status)
	}
	return strings.TrimSpace(string(body)), nil
}

// checkPage checks that / serves an HTML page that loads the Socket.IO
// client from the server itself.
func checkPage(ctx context.Context, tg target) error {
	status, hdr, body, err := tg.get(ctx, "/")
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		return fmt.Errorf("GET /: status %d", status)
	}
	if mt, _, _ := mime.ParseMediaType(hdr.Get("Content-Type")); mt != "text/html" {
		return fmt.Errorf("GET /: Content-Type %q, want text/html", hdr.Get("Content-Type"))
	}
	if !bytes.Contains(body, []byte(socketioclient.Path)) {
		return fmt.Errorf("GET /: the page does not load %s", socketioclient.Path)
	}
	return nil
}

// checkClientBundle checks that the browser client served is exactly the
// pinned socket.io-client (a 3.x or 4.x client cannot talk to the server).
func checkClientBundle(ctx context.Context, tg target) error {
	status, _, body, err := tg.get(ctx, socketioclient.Path)
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		return fmt.Errorf("GET %s: status %d", socketioclient.Path, status)
	}
	sum := sha256.Sum256(body)
	if got := hex.EncodeToString(sum[:]); got != socketioclient.SHA256 {
		return fmt.Errorf("GET %s: sha256 %s, want %s (socket.io-client %s)", socketioclient.Path, got, socketioclient.SHA256, socketioclient.Version)
	}
	return nil
}

// sessions are the ways a browser can end up talking to the server: the
// transport asked for, and the one the session must be on once open.
var sessions = []struct{ name, dial, want string }{
	{"long-polling session", sioclient.TransportPolling, sioclient.TransportPolling},
	{"upgrade from long-polling to websocket", sioclient.TransportUpgrade, sioclient.TransportWebsocket},
	{"websocket-only session", sioclient.TransportWebsocket, sioclient.TransportWebsocket},
}

// checkSessions opens each kind of session up to the Socket.IO connect,
// checks its ping interval, and leaves it again.
func checkSessions(ctx context.Context, tg target) error {
	for _, s := range sessions {
		c, err := openSession(ctx, tg, s.dial)
		if err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		sid, interval, transport := c.SID(), c.PingInterval(), c.Transport()
		// Leave before judging, so that no session is left behind.
		if err := c.Close(); err != nil {
			return fmt.Errorf("%s: saying goodbye: %w", s.name, err)
		}
		if transport != s.want {
			return fmt.Errorf("%s: the session is on %s, want %s (does the server offer the upgrade?)", s.name, transport, s.want)
		}
		if interval >= routerIdleTimeout {
			return fmt.Errorf("%s: pingInterval %v is not below the router's %v idle timeout", s.name, interval, routerIdleTimeout)
		}
		tg.logf("ok: Socket.IO 2 %s, sid %q, pingInterval %v", s.name, sid, interval)
	}
	return nil
}

// openSession dials one Socket.IO session and waits for its connect
// packet, within requestTimeout.
func openSession(ctx context.Context, tg target, transport string) (*sioclient.Client, error) {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	return sioclient.Dial(ctx, tg.base.String(), sioclient.DialOptions{Transport: transport, Origin: tg.origin})
}
