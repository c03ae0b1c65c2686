package chattest

import (
	"bytes"
	"image/png"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// pages are small documents the harness tests load from a local server.
var pages = map[string]string{
	"/clean": `<!doctype html><html lang="tr"><head><meta charset="utf-8"><title>t</title></head>
<body><ul id="messages"></ul>
<form id="form"><input id="input"><button>Gönder</button></form>
<script>
document.getElementById("form").addEventListener("submit", function (e) {
  e.preventDefault();
  var li = document.createElement("li");
  li.textContent = document.getElementById("input").value;
  document.getElementById("messages").appendChild(li);
  document.getElementById("input").value = "";
});
</script></body></html>`,
	"/noisy": `<!doctype html><html><head><meta charset="utf-8"><title>t</title></head><body>
<img src="http://example.invalid/dis.png" alt="">
<script>console.error("kötü bir şey", 42);</script>
<script>alert("merhaba");</script>
<script>throw new Error("patladı");</script>
</body></html>`,
	// /io stands in for a page with the socket.io-client bundle: it assigns
	// a global io function with properties, as the UMD bundle does, and
	// calls it at once, in a page script, in the four ways io() is called.
	"/io": `<!doctype html><html><head><meta charset="utf-8"><title>t</title></head><body>
<script>
!function (root) {
  function lookup(uri, opts) {
    // As in the bundle: an object as the first argument is the options.
    if (typeof uri === "object") { opts = uri; uri = undefined; }
    return { uri: uri, opts: opts };
  }
  lookup.protocol = 4;
  lookup.connect = lookup;
  root.io = lookup;
}(this);
</script>
<script>
var calls = [io(), io("/ad"), io({ path: "/yol" }), io("/ad", { path: "/yol", transports: ["polling", "websocket"] }), io.connect("/baglan")];
</script></body></html>`,
	"/set": `<!doctype html><html><head><meta charset="utf-8"><title>t</title></head><body>set</body></html>`,
}

func pageServer(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := pages[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		if r.URL.Path == "/set" {
			http.SetCookie(w, &http.Cookie{Name: "kim", Value: "ayse", Path: "/"})
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestBrowserHarness(t *testing.T) {
	b := NewBrowser(t)
	srv := pageServer(t)

	t.Run("a clean page reports no errors, no dialogs and only local requests", func(t *testing.T) {
		tab := b.NewTab(t, TabWidth, TabHeight)
		tab.Navigate(t, srv.URL+"/clean")
		tab.Send(t, "Merhaba, dünya! çğıİöşü")
		tab.WaitTrue(t, "the typed message in the list",
			`[...document.querySelectorAll("#messages li")].some(li => li.textContent === "Merhaba, dünya! çğıİöşü")`,
			5*time.Second)
		tab.CheckNoErrors(t)
		tab.CheckNoDialogs(t)
		tab.CheckLocalOnly(t)
		if reqs := tab.Requests(t); !slices.Contains(reqs, srv.URL+"/clean") {
			t.Errorf("requests %q lack the page itself", reqs)
		}
	})

	t.Run("console errors, exceptions, dialogs and outside requests are caught", func(t *testing.T) {
		tab := b.NewTab(t, TabWidth, TabHeight)
		tab.Navigate(t, srv.URL+"/noisy")
		errs := strings.Join(tab.Errors(t), "\n")
		for _, want := range []string{"console.error: kötü bir şey 42", "patladı"} {
			if !strings.Contains(errs, want) {
				t.Errorf("errors lack %q:\n%s", want, errs)
			}
		}
		if d := tab.Dialogs(t); !slices.Equal(d, []string{"alert: merhaba"}) {
			t.Errorf("dialogs = %q, want one alert", d)
		}
		reqs := tab.Requests(t)
		if !slices.Contains(reqs, "http://example.invalid/dis.png") {
			t.Errorf("requests %q lack the outside image", reqs)
		}
		var outside []string
		for _, r := range reqs {
			if !IsLocalURL(r) {
				outside = append(outside, r)
			}
		}
		if !slices.Equal(outside, []string{"http://example.invalid/dis.png"}) {
			t.Errorf("outside requests = %q", outside)
		}
	})

	t.Run("two tabs share no cookies", func(t *testing.T) {
		a := b.NewTab(t, HalfWidth, TabHeight)
		c := b.NewTab(t, HalfWidth, TabHeight)
		a.Navigate(t, srv.URL+"/set")
		c.Navigate(t, srv.URL+"/clean")
		if got := Eval[string](t, a, "document.cookie"); got != "kim=ayse" {
			t.Errorf("tab A cookie = %q, want kim=ayse", got)
		}
		if got := Eval[string](t, c, "document.cookie"); got != "" {
			t.Errorf("tab B sees cookie %q from tab A", got)
		}
	})

	t.Run("screenshots have the viewport's size and join side by side", func(t *testing.T) {
		a := b.NewTab(t, HalfWidth, TabHeight)
		a.Navigate(t, srv.URL+"/clean")
		path := filepath.Join(t.TempDir(), "alt", "bir.png")
		if err := Screenshot(a.Ctx, path); err != nil {
			t.Fatal(err)
		}
		one := a.Capture(t)
		cfg, err := png.DecodeConfig(bytes.NewReader(one))
		if err != nil || cfg.Width != HalfWidth || cfg.Height != TabHeight {
			t.Fatalf("screenshot %dx%d (%v), want %dx%d", cfg.Width, cfg.Height, err, HalfWidth, TabHeight)
		}
		both, err := SideBySide(one, one)
		if err != nil {
			t.Fatal(err)
		}
		cfg, err = png.DecodeConfig(bytes.NewReader(both))
		if err != nil || cfg.Width != 2*HalfWidth+6 || cfg.Height != TabHeight {
			t.Fatalf("joined %dx%d (%v), want %dx%d", cfg.Width, cfg.Height, err, 2*HalfWidth+6, TabHeight)
		}

		dir := t.TempDir()
		t.Setenv(ScreenshotDirEnv, dir)
		SaveScreenshot(t, "iki", a, a)
		if err := Screenshot(a.Ctx, filepath.Join(dir, "x.png")); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("ForceTransports merges the transports option into every io() call", func(t *testing.T) {
		forceTransports(t, b, srv)
	})
}

// forceTransports checks, on a page that defines its own io function,
// that ForceTransports merges the transports option into every io() call
// made by the page's scripts, keeps the other options and the function's
// properties, holds after a reload, and that a tab without it is untouched.
func forceTransports(t *testing.T, b *Browser, srv *httptest.Server) {
	const calls = `JSON.stringify(calls)`
	// io(url?, opts?) as the stand-in records it; JSON drops an undefined uri.
	const plain = `[{},{"uri":"/ad"},{"opts":{"path":"/yol"}},` +
		`{"uri":"/ad","opts":{"path":"/yol","transports":["polling","websocket"]}},{"uri":"/baglan"}]`
	const forced = `[{"opts":{"transports":["websocket"]}},{"uri":"/ad","opts":{"transports":["websocket"]}},` +
		`{"opts":{"path":"/yol","transports":["websocket"]}},{"uri":"/ad","opts":{"path":"/yol","transports":["websocket"]}},` +
		`{"uri":"/baglan","opts":{"transports":["websocket"]}}]`

	untouched := b.NewTab(t, HalfWidth, TabHeight)
	untouched.Navigate(t, srv.URL+"/io")
	if got := Eval[string](t, untouched, calls); got != plain {
		t.Errorf("without ForceTransports the calls are\n%s\nwant\n%s", got, plain)
	}

	tab := b.NewTab(t, HalfWidth, TabHeight)
	tab.ForceTransports(t, "websocket")
	tab.Navigate(t, srv.URL+"/io")
	if got := Eval[string](t, tab, calls); got != forced {
		t.Errorf("with ForceTransports(websocket) the calls are\n%s\nwant\n%s", got, forced)
	}
	if got := Eval[int](t, tab, `io.protocol`); got != 4 {
		t.Errorf("io.protocol = %d after wrapping, want 4", got)
	}
	tab.Reload(t)
	if got := Eval[string](t, tab, calls); got != forced {
		t.Errorf("after a reload the calls are\n%s\nwant\n%s", got, forced)
	}
	tab.CheckNoErrors(t)

	polling := b.NewTab(t, HalfWidth, TabHeight)
	polling.ForceTransports(t, "polling")
	polling.Navigate(t, srv.URL+"/io")
	if got := Eval[string](t, polling, `JSON.stringify(io("/x", { upgrade: false }))`); got != `{"uri":"/x","opts":{"upgrade":false,"transports":["polling"]}}` {
		t.Errorf("with ForceTransports(polling), io(\"/x\", {upgrade: false}) = %s", got)
	}

	if err := ForceTransports(polling.Ctx); err == nil {
		t.Error("ForceTransports with no transport returned no error")
	}
}

func TestIsLocalURL(t *testing.T) {
	tests := []struct {
		url  string
		want bool
	}{
		{"http://127.0.0.1:3000/", true},
		{"ws://127.0.0.1:3000/socket.io/?EIO=3&transport=websocket", true},
		{"data:image/png;base64,AAAA", true},
		{"about:blank", true},
		{"http://localhost:3000/", false},
		{"https://cdn.socket.io/socket.io-2.5.0.js", false},
		{"wss://example.com/ws", false},
		{"http://127.0.0.1.example.com/", false},
		{"chrome-extension://abc/x.js", false},
	}
	for _, tt := range tests {
		if got := IsLocalURL(tt.url); got != tt.want {
			t.Errorf("IsLocalURL(%q) = %v, want %v", tt.url, got, tt.want)
		}
	}
}
