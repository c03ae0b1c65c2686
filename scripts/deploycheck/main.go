// Command deploycheck checks that a running chat answers the way the
// course's deployed step must: GET /healthz says "ok", the page and the
// pinned socket.io-client are served, and an Engine.IO 3 handshake works
// over both long-polling and WebSocket. It sends no chat message, so it is
// safe to point at a live app that people are using.
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
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"mime"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/gorilla/websocket"

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
	// host, if set, replaces the Host header (to play the router's part
	// against a local process).
	host string
	// origin is sent as Origin on the Engine.IO requests, as the page's
	// own browser would send it.
	origin string
	// header holds extra headers for every request.
	header http.Header
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

	open, err := pollingHandshake(ctx, tg)
	if err != nil {
		return err
	}
	tg.logf("ok: Engine.IO 3 polling handshake, sid %q, upgrades %v, pingInterval %d ms", open.SID, open.Upgrades, open.PingInterval)

	open, err = websocketHandshake(ctx, tg)
	if err != nil {
		return err
	}
	tg.logf("ok: Engine.IO 3 websocket handshake and Socket.IO connect, sid %q", open.SID)
	return nil
}

// newRequest builds a GET for path on the target, with its headers.
func (tg target) newRequest(ctx context.Context, path string) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, tg.base.String()+path, nil)
	if err != nil {
		return nil, err
	}
	for k, vs := range tg.header {
		req.Header[k] = slices.Clone(vs)
	}
	if tg.host != "" {
		req.Host = tg.host
	}
	return req, nil
}

// get performs one GET with requestTimeout and returns status, headers
// and a body of at most 4 MiB.
func (tg target) get(ctx context.Context, path string, extra http.Header) (int, http.Header, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	req, err := tg.newRequest(ctx, path)
	if err != nil {
		return 0, nil, nil, err
	}
	for k, vs := range extra {
		req.Header[k] = slices.Clone(vs)
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
	status, hdr, body, err := tg.get(ctx, "/healthz", nil)
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
	status, hdr, body, err := tg.get(ctx, "/", nil)
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
	status, _, body, err := tg.get(ctx, socketioclient.Path, nil)
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

// openPacket is the Engine.IO 3 handshake ("0{...}").
type openPacket struct {
	SID          string   `json:"sid"`
	Upgrades     []string `json:"upgrades"`
	PingInterval int      `json:"pingInterval"`
	PingTimeout  int      `json:"pingTimeout"`
}

// parseOpen finds the open packet in a polling payload or websocket frame.
// Engine.IO 3 frames payloads as "<length>:<packet>" in text, or with
// length bytes and 0xFF in binary; in both the packet is "0" then JSON.
func parseOpen(data []byte) (openPacket, error) {
	var open openPacket
	i := bytes.Index(data, []byte(`0{`))
	if i < 0 {
		return open, fmt.Errorf("no Engine.IO open packet in %.200q", data)
	}
	if i > 0 && data[i-1] != ':' && data[i-1] != 0xFF {
		return open, fmt.Errorf("open packet is not at a packet boundary in %.200q", data)
	}
	dec := json.NewDecoder(bytes.NewReader(data[i+1:]))
	if err := dec.Decode(&open); err != nil {
		return open, fmt.Errorf("open packet: %w in %.200q", err, data)
	}
	if open.SID == "" {
		return open, fmt.Errorf("open packet has no sid: %.200q", data)
	}
	if open.PingInterval <= 0 || open.PingTimeout <= 0 {
		return open, fmt.Errorf("open packet has no ping timings: %.200q", data)
	}
	if time.Duration(open.PingInterval)*time.Millisecond >= routerIdleTimeout {
		return open, fmt.Errorf("pingInterval %d ms is not below the router's %v idle timeout", open.PingInterval, routerIdleTimeout)
	}
	return open, nil
}

// pollingHandshake opens an Engine.IO 3 session over long-polling, the
// transport a browser starts with.
func pollingHandshake(ctx context.Context, tg target) (openPacket, error) {
	path := "/socket.io/?EIO=3&transport=polling&t=" + url.QueryEscape(time.Now().Format("150405.000"))
	status, _, body, err := tg.get(ctx, path, http.Header{"Origin": {tg.origin}})
	if err != nil {
		return openPacket{}, err
	}
	if status != http.StatusOK {
		return openPacket{}, fmt.Errorf("polling handshake: status %d: %.200s", status, body)
	}
	open, err := parseOpen(body)
	if err != nil {
		return open, fmt.Errorf("polling handshake: %w", err)
	}
	if !slices.Contains(open.Upgrades, "websocket") {
		return open, fmt.Errorf("polling handshake: upgrades %v do not offer websocket", open.Upgrades)
	}
	return open, nil
}

// websocketHandshake opens an Engine.IO 3 session directly over
// WebSocket, waits for the Socket.IO connect packet ("40") and says
// goodbye.
func websocketHandshake(ctx context.Context, tg target) (openPacket, error) {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	u := *tg.base
	u.Scheme = map[string]string{"http": "ws", "https": "wss"}[u.Scheme]
	u.Path = "/socket.io/"
	u.RawQuery = "EIO=3&transport=websocket"
	hdr := http.Header{"Origin": {tg.origin}}
	for k, vs := range tg.header {
		hdr[k] = slices.Clone(vs)
	}
	if tg.host != "" {
		hdr.Set("Host", tg.host)
	}
	ws, resp, err := websocket.DefaultDialer.DialContext(ctx, u.String(), hdr)
	if err != nil {
		if resp != nil {
			return openPacket{}, fmt.Errorf("websocket handshake: %w (status %d)", err, resp.StatusCode)
		}
		return openPacket{}, fmt.Errorf("websocket handshake: %w", err)
	}
	defer ws.Close()
	deadline, _ := ctx.Deadline()
	_ = ws.SetReadDeadline(deadline)

	_, msg, err := ws.ReadMessage()
	if err != nil {
		return openPacket{}, fmt.Errorf("websocket handshake: reading open packet: %w", err)
	}
	if !bytes.HasPrefix(msg, []byte("0{")) {
		return openPacket{}, fmt.Errorf("websocket handshake: first frame %.200q is not an open packet", msg)
	}
	open, err := parseOpen(msg)
	if err != nil {
		return open, fmt.Errorf("websocket handshake: %w", err)
	}
	for {
		_, msg, err = ws.ReadMessage()
		if err != nil {
			return open, fmt.Errorf("websocket handshake: waiting for Socket.IO connect: %w", err)
		}
		if string(msg) == "40" {
			break
		}
		if !bytes.HasPrefix(msg, []byte("2")) && !bytes.HasPrefix(msg, []byte("6")) { // ping, noop
			return open, fmt.Errorf("websocket handshake: want Socket.IO connect \"40\", got %.200q", msg)
		}
	}
	// Leave politely: Socket.IO disconnect, Engine.IO close, close frame.
	for _, p := range []string{"41", "1"} {
		if err := ws.WriteMessage(websocket.TextMessage, []byte(p)); err != nil {
			return open, fmt.Errorf("websocket handshake: %w", err)
		}
	}
	err = ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
	if err != nil && !errors.Is(err, websocket.ErrCloseSent) {
		return open, fmt.Errorf("websocket handshake: close: %w", err)
	}
	return open, nil
}
