package chattest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// ChromiumPath is where Debian's chromium package installs the browser.
const ChromiumPath = "/usr/bin/chromium"

// Viewport sizes used by the browser tests. One tab fills a screenshot of
// TabWidth x TabHeight; two tabs side by side use HalfWidth each, so a
// screenshot of a conversation stays about as wide as one of a single tab.
const (
	TabWidth  = 800
	TabHeight = 500
	HalfWidth = 400
	// TermWidth is the width of a terminal drawn beside a page: wide
	// enough for a log line with its timestamp.
	TermWidth = 500
)

// FindChromium returns the path of a Chromium binary, or "" when there is
// none: /usr/bin/chromium first, then "chromium" on PATH.
func FindChromium() string {
	if fi, err := os.Stat(ChromiumPath); err == nil && !fi.IsDir() {
		return ChromiumPath
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	return ""
}

// NeedChromium returns the path of Chromium. When it is missing, the test is
// skipped with a message saying how to install it, except under CI=true,
// where a missing browser fails the test: CI must run every browser test.
func NeedChromium(t testing.TB) string {
	t.Helper()
	p := FindChromium()
	if p != "" {
		return p
	}
	msg := "Chromium not found (" + ChromiumPath + " or chromium on PATH); " +
		"install it (Debian/Ubuntu: sudo apt-get install chromium) to run the browser tests"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg + " [CI=true: browser tests must run]")
	}
	t.Skip(msg)
	return ""
}

// AcceptTestCertificates makes NewBrowser's Chromium accept any TLS
// certificate, such as httptest.NewTLSServer's: for testing a page served
// over HTTPS on 127.0.0.1.
var AcceptTestCertificates = chromedp.Flag("ignore-certificate-errors", true)

// Browser is one headless Chromium process. Each Tab opened on it lives in
// its own browser context, so tabs share no cookies or storage: they behave
// like two different people.
type Browser struct {
	ctx context.Context
}

// NewBrowser starts headless Chromium with a fresh profile folder and stops
// it when the test ends. It skips (or fails under CI=true) when Chromium is
// missing.
func NewBrowser(t testing.TB, extra ...chromedp.ExecAllocatorOption) *Browser {
	t.Helper()
	exe := NeedChromium(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-sync", true),
		chromedp.NoFirstRun,
		// The tests talk only to 127.0.0.1. Any other host name fails to
		// resolve, so a page that reaches out (a CDN link, say) cannot
		// leave this machine; the request recorder still sees the attempt.
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"),
	)
	opts = append(opts, extra...)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelBrowser := chromedp.NewContext(allocCtx)
	// Cleanups run last-in first-out: the browser is gone before its
	// profile folder (from t.TempDir above) is removed.
	t.Cleanup(cancelAlloc)
	t.Cleanup(cancelBrowser)
	// The first Do starts the browser and binds its lifetime to ctx, so it
	// gets no timeout of its own (the test's deadline still applies).
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium %s: %v", exe, err)
	}
	return &Browser{ctx: ctx}
}

// Tab is a page in its own browser context. It records, from its first
// moment, the console messages, uncaught exceptions, network requests and
// JavaScript dialogs of its page. Dialogs are dismissed at once so that an
// alert never blocks the page.
type Tab struct {
	// Ctx is the chromedp context of the tab; pass it to chromedp.Do/Run.
	Ctx context.Context

	close context.CancelFunc

	mu       sync.Mutex
	errors   []string
	requests []string
	dialogs  []string
}

// NewTab opens a page of width x height pixels in a new browser context
// (its own cookies and storage). It closes when the test ends.
func (b *Browser) NewTab(t testing.TB, width, height int) *Tab {
	t.Helper()
	tab := &Tab{}
	var ctx context.Context
	ctx, cancel := chromedp.NewContext(b.ctx,
		chromedp.WithNewBrowserContext(),
		chromedp.WithListener(func(ev any) { tab.record(ctx, ev) }),
	)
	tab.Ctx = ctx
	tab.close = cancel
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(int64(width), int64(height))); err != nil {
		t.Fatalf("open tab: %v", err)
	}
	return tab
}

// forceTransportsJS installs, before any script of a page runs, a setter
// on window.io: when the socket.io-client bundle assigns its io function
// (the UMD bundle does window.io = ...), the setter stores a wrapper that
// merges {transports: T} into the options of every io(url?, opts?) call.
// io.connect goes through the wrapper too; the function's other properties
// (io.protocol, io.Manager, ...) are kept. %s stands for the JSON array T.
const forceTransportsJS = `(() => {
  const transports = %s;
  const wrap = (original) => {
    if (typeof original !== "function") return original;
    const wrapper = function (uri, opts) {
      if (typeof uri === "object" && uri !== null) {
        opts = uri;
        uri = undefined;
      }
      const merged = Object.assign({}, opts, { transports: transports.slice() });
      return uri === undefined ? original.call(this, merged) : original.call(this, uri, merged);
    };
    Object.assign(wrapper, original);
    wrapper.connect = wrapper;
    wrapper.forcedTransports = transports.slice();
    return wrapper;
  };
  let current;
  Object.defineProperty(window, "io", {
    configurable: true,
    enumerable: true,
    get() { return current; },
    set(v) { current = wrap(v); },
  });
})();`

// ForceTransports makes every page loaded later in the tab of ctx (a Tab's
// Ctx) connect with socket.io-client's transports option set to transports
// ("websocket", "polling"), whatever the page passes to io(). The page
// itself stays as it is: the option is merged in by a wrapper installed
// before any page script runs, and it holds for reloads too.
func ForceTransports(ctx context.Context, transports ...string) error {
	if len(transports) == 0 {
		return fmt.Errorf("ForceTransports: no transport given")
	}
	list, err := json.Marshal(transports)
	if err != nil {
		return err
	}
	_, err = chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
		Source: fmt.Sprintf(forceTransportsJS, list),
	})
	return err
}

// ForceTransports is the package function ForceTransports for this tab;
// call it before Navigate.
func (tab *Tab) ForceTransports(t testing.TB, transports ...string) {
	t.Helper()
	if err := ForceTransports(tab.Ctx, transports...); err != nil {
		t.Fatalf("force transports %q: %v", transports, err)
	}
}

// TransportMode is one way socket.io-client may connect.
type TransportMode struct {
	// Name names the mode, for instance as a subtest name.
	Name string
	// Transports is the client's transports option; nil keeps the page's
	// own default (polling first, then an upgrade to WebSocket).
	Transports []string
	// Final is the transport the connection ends up on.
	Final string
}

// TransportModes are the three ways a socket.io-client 2.x page can
// connect: its default, WebSocket only and long-polling only.
var TransportModes = []TransportMode{
	{Name: "default (polling, then upgrade)", Final: "websocket"},
	{Name: "websocket only", Transports: []string{"websocket"}, Final: "websocket"},
	{Name: "polling only", Transports: []string{"polling"}, Final: "polling"},
}

// Apply forces the mode's transports on tab (nothing for the default
// mode); call it before Navigate.
func (m TransportMode) Apply(t testing.TB, tab *Tab) {
	t.Helper()
	if m.Transports != nil {
		tab.ForceTransports(t, m.Transports...)
	}
}

// WaitTransport waits until the page's global socket (the page's
// "const socket = io()") runs on the mode's final transport, then checks
// the Engine.IO requests the page made: the default mode used both
// long-polling and a WebSocket, "websocket only" never polled and
// "polling only" never opened a WebSocket.
func (m TransportMode) WaitTransport(t testing.TB, tab *Tab) {
	t.Helper()
	tab.WaitTrue(t, "the socket to run on "+m.Final,
		fmt.Sprintf(`typeof socket === "object" && socket.connected && socket.io.engine.transport.name === %q`, m.Final),
		10*time.Second)
	polled, ws := false, false
	for _, r := range tab.Requests(t) {
		if !strings.Contains(r, "/socket.io/?EIO=") {
			continue
		}
		polled = polled || strings.Contains(r, "transport=polling")
		ws = ws || strings.Contains(r, "transport=websocket")
	}
	wantPolled := m.Transports == nil || slices.Contains(m.Transports, "polling")
	wantWS := m.Transports == nil || slices.Contains(m.Transports, "websocket")
	if polled != wantPolled || ws != wantWS {
		t.Errorf("%s: Engine.IO requests used polling=%v websocket=%v, want polling=%v websocket=%v",
			m.Name, polled, ws, wantPolled, wantWS)
	}
}

// record runs in the tab's event loop, in the order Chrome sent the events:
// it must return fast and send no command.
func (tab *Tab) record(ctx context.Context, ev any) {
	tab.mu.Lock()
	defer tab.mu.Unlock()
	switch ev := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
			tab.errors = append(tab.errors, "console."+string(ev.Type)+": "+remoteArgs(ev.Args))
		}
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		text := d.Text
		if d.Exception != nil && d.Exception.Description != "" {
			text += " " + d.Exception.Description
		}
		tab.errors = append(tab.errors, fmt.Sprintf("uncaught exception at %s:%d: %s", d.URL, d.LineNumber+1, text))
	case *log.EventEntryAdded:
		// The browser itself asks for /favicon.ico; the steps have none,
		// and that 404 is not an error of the page.
		if ev.Entry.Level == log.EntryLevelError && !isFaviconURL(ev.Entry.URL) {
			tab.errors = append(tab.errors, fmt.Sprintf("browser log (%s): %s %s", ev.Entry.Source, ev.Entry.Text, ev.Entry.URL))
		}
	case *network.EventRequestWillBeSent:
		tab.requests = append(tab.requests, ev.Request.URL)
	case *network.EventWebSocketCreated:
		tab.requests = append(tab.requests, ev.URL)
	case *page.EventJavascriptDialogOpening:
		tab.dialogs = append(tab.dialogs, string(ev.Type)+": "+ev.Message)
		go func() {
			_, _ = chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
		}()
	}
}

// isFaviconURL reports whether raw is the icon the browser requests on its
// own for every site.
func isFaviconURL(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && u.Path == "/favicon.ico"
}

// remoteArgs formats console arguments roughly as DevTools shows them.
func remoteArgs(args []*runtime.RemoteObject) string {
	parts := make([]string, 0, len(args))
	for _, a := range args {
		switch {
		case a.Type == runtime.RemoteObjectTypeString:
			var s string
			if err := json.Unmarshal([]byte(a.Value), &s); err == nil {
				parts = append(parts, s)
				continue
			}
			parts = append(parts, string(a.Value))
		case a.Description != "":
			parts = append(parts, a.Description)
		default:
			parts = append(parts, string(a.Value))
		}
	}
	return strings.Join(parts, " ")
}

// sync makes one round trip to the page. Chrome sends a tab's events in
// order, and the listener sees each event before the reply that follows it,
// so after sync every event that happened before it has been recorded.
func (tab *Tab) sync(t testing.TB) {
	t.Helper()
	if err := chromedp.Do(tab.Ctx, chromedp.Evaluate[chromedp.Void]("0")); err != nil {
		t.Fatalf("tab round trip: %v", err)
	}
}

// Navigate loads url and waits for the page's load event.
func (tab *Tab) Navigate(t testing.TB, url string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab.Ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatalf("navigate to %s: %v", url, err)
	}
}

// Reload reloads the page and waits for the load event.
func (tab *Tab) Reload(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab.Ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Reload()); err != nil {
		t.Fatalf("reload: %v", err)
	}
}

// WaitTrue waits until the JavaScript expression expr is truthy in the
// page, or fails the test after timeout with what describes the wait.
// It re-evaluates expr on every DOM change and every 20 ms.
func (tab *Tab) WaitTrue(t testing.TB, what, expr string, timeout time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab.Ctx, timeout+5*time.Second)
	defer cancel()
	_, err := chromedp.Run(ctx, chromedp.Poll[bool](expr,
		chromedp.WithPollingInterval(20*time.Millisecond),
		chromedp.WithPollingTimeout(timeout)))
	if err != nil {
		t.Fatalf("waiting %v for %s (%s): %v", timeout, what, expr, err)
	}
}

// Eval evaluates a JavaScript expression in the tab and decodes its value.
func Eval[T any](t testing.TB, tab *Tab, expr string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab.Ctx, 10*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// Type clicks #input and types text into it like a user, key by key.
func (tab *Tab) Type(t testing.TB, text string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab.Ctx, 10*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS("#input"), chromedp.NodeVisible),
		chromedp.SendKeys(chromedp.CSS("#input"), text),
	); err != nil {
		t.Fatalf("type %q: %v", text, err)
	}
}

// Close closes the tab like a user closing it: its connections end.
func (tab *Tab) Close(t testing.TB) {
	t.Helper()
	tab.close()
}

// Fill clears the input matched by the CSS selector, types text into it
// like a user, key by key, and presses Enter, which submits its form.
func (tab *Tab) Fill(t testing.TB, selector, text string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab.Ctx, 10*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(selector), chromedp.NodeVisible)); err != nil {
		t.Fatalf("fill %s: %v", selector, err)
	}
	Eval[string](t, tab, fmt.Sprintf(`document.querySelector(%q).value = ""`, selector))
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS(selector), text+"\r")); err != nil {
		t.Fatalf("fill %s with %q: %v", selector, text, err)
	}
}

// Send types text into #input like a user and clicks the form's button.
func (tab *Tab) Send(t testing.TB, text string) {
	t.Helper()
	tab.Type(t, text)
	ctx, cancel := context.WithTimeout(tab.Ctx, 10*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#form button"), chromedp.NodeVisible)); err != nil {
		t.Fatalf("send %q: %v", text, err)
	}
}

// Errors returns the console errors, failed assertions, uncaught exceptions
// and browser-log errors the page produced so far.
func (tab *Tab) Errors(t testing.TB) []string {
	t.Helper()
	tab.sync(t)
	tab.mu.Lock()
	defer tab.mu.Unlock()
	return append([]string(nil), tab.errors...)
}

// Requests returns every URL the page requested so far, WebSockets
// included, in order.
func (tab *Tab) Requests(t testing.TB) []string {
	t.Helper()
	tab.sync(t)
	tab.mu.Lock()
	defer tab.mu.Unlock()
	return append([]string(nil), tab.requests...)
}

// Dialogs returns the JavaScript dialogs (alert, confirm, prompt) the page
// opened so far, as "type: message".
func (tab *Tab) Dialogs(t testing.TB) []string {
	t.Helper()
	tab.sync(t)
	tab.mu.Lock()
	defer tab.mu.Unlock()
	return append([]string(nil), tab.dialogs...)
}

// CheckNoErrors fails the test if the page logged a console error or threw
// an uncaught exception.
func (tab *Tab) CheckNoErrors(t testing.TB) {
	t.Helper()
	for _, e := range tab.Errors(t) {
		t.Errorf("page error: %s", e)
	}
}

// CheckNoDialogs fails the test if the page opened a JavaScript dialog.
func (tab *Tab) CheckNoDialogs(t testing.TB) {
	t.Helper()
	for _, d := range tab.Dialogs(t) {
		t.Errorf("page opened a dialog: %s", d)
	}
}

// CheckLocalOnly fails the test if the page requested anything from a host
// other than 127.0.0.1 (data:, blob: and about: URLs stay in the browser).
func (tab *Tab) CheckLocalOnly(t testing.TB) {
	t.Helper()
	for _, r := range tab.Requests(t) {
		if !IsLocalURL(r) {
			t.Errorf("page requested %s: only 127.0.0.1 may be contacted", r)
		}
	}
}

// IsLocalURL reports whether a request to raw stays on this machine: its
// host is 127.0.0.1, or it is a data:, blob: or about: URL.
func IsLocalURL(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	switch u.Scheme {
	case "data", "blob", "about":
		return true
	case "http", "https", "ws", "wss":
		return u.Hostname() == "127.0.0.1"
	}
	return false
}

// Screenshot captures the visible part of the page in ctx (a Tab's Ctx) as
// a PNG file at path, creating its folder.
func Screenshot(ctx context.Context, path string) error {
	shot, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		return err
	}
	return writeFile(path, shot)
}

// Capture returns a PNG of the visible part of the tab.
func (tab *Tab) Capture(t testing.TB) []byte {
	t.Helper()
	shot, err := chromedp.Run(tab.Ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	return shot
}

// SideBySide joins PNG screenshots left to right, with a thin dark gap
// between them, into one PNG encoded at the best compression.
func SideBySide(shots ...[]byte) ([]byte, error) {
	const gap = 6
	imgs := make([]image.Image, len(shots))
	width, height := 0, 0
	for i, s := range shots {
		img, err := png.Decode(bytes.NewReader(s))
		if err != nil {
			return nil, fmt.Errorf("screenshot %d: %w", i, err)
		}
		imgs[i] = img
		if i > 0 {
			width += gap
		}
		width += img.Bounds().Dx()
		height = max(height, img.Bounds().Dy())
	}
	out := image.NewRGBA(image.Rect(0, 0, width, height))
	draw.Draw(out, out.Bounds(), &image.Uniform{color.RGBA{0x55, 0x55, 0x55, 0xff}}, image.Point{}, draw.Src)
	x := 0
	for _, img := range imgs {
		b := img.Bounds()
		draw.Draw(out, image.Rect(x, 0, x+b.Dx(), b.Dy()), img, b.Min, draw.Src)
		x += b.Dx() + gap
	}
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(&buf, out); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Terminal draws text as a dark terminal window of width x height pixels,
// titled title, in a page of its own, and returns its PNG. The newest lines
// stay in view, as in a real terminal. Screenshots use it to show a server's
// log beside the page.
func (b *Browser) Terminal(t testing.TB, title, text string, width, height int) []byte {
	t.Helper()
	tab := b.NewTab(t, width, height)
	tab.Navigate(t, "about:blank")
	arg, err := json.Marshal(map[string]string{"title": title, "text": strings.TrimRight(text, "\n")})
	if err != nil {
		t.Fatal(err)
	}
	js := `(() => {
  const a = ` + string(arg) + `;
  document.body.style.cssText = "margin:0;background:#1e1e1e;color:#d4d4d4;height:100vh;display:flex;flex-direction:column;font:12px/1.5 'DejaVu Sans Mono',monospace";
  const bar = document.createElement("div");
  bar.style.cssText = "background:#333;color:#ccc;padding:6px 10px;font-family:sans-serif;font-size:12px";
  bar.textContent = a.title;
  const pre = document.createElement("pre");
  pre.style.cssText = "margin:0;padding:8px 10px;white-space:pre-wrap;overflow-wrap:anywhere;overflow:hidden;flex:1;display:flex;flex-direction:column;justify-content:flex-end";
  pre.textContent = a.text;
  document.body.replaceChildren(bar, pre);
})()`
	if err := chromedp.Do(tab.Ctx, chromedp.Evaluate[chromedp.Void](js)); err != nil {
		t.Fatalf("draw terminal: %v", err)
	}
	return tab.Capture(t)
}

// ScreenshotDirEnv names the environment variable that turns screenshots on:
// when it is set, the browser tests write their PNGs into that folder.
const ScreenshotDirEnv = "SCREENSHOT_DIR"

// SaveScreenshot writes one PNG named name+".png" into $SCREENSHOT_DIR when
// that variable is set: a single tab as it is, several tabs side by side.
// Without the variable it does nothing.
func SaveScreenshot(t testing.TB, name string, tabs ...*Tab) {
	t.Helper()
	dir := os.Getenv(ScreenshotDirEnv)
	if dir == "" {
		return
	}
	shots := make([][]byte, len(tabs))
	for i, tab := range tabs {
		shots[i] = tab.Capture(t)
	}
	SavePNGs(t, name, shots...)
}

// Screenshots reports whether $SCREENSHOT_DIR asks the tests for PNGs.
func Screenshots() bool { return os.Getenv(ScreenshotDirEnv) != "" }

// SavePNGs writes PNG images side by side as name+".png" into
// $SCREENSHOT_DIR when that variable is set.
func SavePNGs(t testing.TB, name string, shots ...[]byte) {
	t.Helper()
	dir := os.Getenv(ScreenshotDirEnv)
	if dir == "" {
		return
	}
	// SideBySide also re-encodes a single shot at the best compression.
	out, err := SideBySide(shots...)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name+".png")
	if err := writeFile(path, out); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot written: %s", path)
}

func writeFile(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o644)
}
