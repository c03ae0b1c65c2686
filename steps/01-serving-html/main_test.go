package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	"sohbet/internal/chattest"
)

func TestIndexServesTheChatPage(t *testing.T) {
	rec := httptest.NewRecorder()
	newServer().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))

	if rec.Code != http.StatusOK {
		t.Fatalf("GET / status = %d, want 200", rec.Code)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("Content-Type = %q, want text/html; charset=utf-8", ct)
	}
	body := rec.Body.String()
	for _, want := range []string{`<ul id="messages"`, `<form id="form"`, `<input id="input"`, ">Gönder</button>", `lang="tr"`} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
}

func TestRoutes(t *testing.T) {
	tests := []struct {
		name     string
		method   string
		path     string
		wantCode int
		wantBody bool
	}{
		{"HEAD on the page answers without a body", http.MethodHead, "/", http.StatusOK, false},
		{"an unknown path is not found", http.MethodGet, "/yok", http.StatusNotFound, true},
		{"a file name under the root is not found", http.MethodGet, "/index.html", http.StatusNotFound, true},
		{"POST on the page is not allowed", http.MethodPost, "/", http.StatusMethodNotAllowed, true},
	}
	srv := httptest.NewServer(newServer())
	defer srv.Close()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, srv.URL+tt.path, nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.wantCode {
				t.Fatalf("%s %s status = %d, want %d", tt.method, tt.path, resp.StatusCode, tt.wantCode)
			}
			if gotBody := len(body) > 0; gotBody != tt.wantBody {
				t.Errorf("body present = %v, want %v", gotBody, tt.wantBody)
			}
		})
	}
}

// TestBinaryServesPageAndStopsOnSIGTERM builds the real program, runs it
// from an unrelated folder with $PORT set, as Heroku would, and stops it.
func TestBinaryServesPageAndStopsOnSIGTERM(t *testing.T) {
	p := chattest.Start(t, chattest.Build(t, "."))

	resp, err := http.Get(p.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `id="messages"`) {
		t.Fatalf("GET / = %d, page found: %v", resp.StatusCode, strings.Contains(string(body), `id="messages"`))
	}

	code, took, err := p.Stop(syscall.SIGTERM, 10*time.Second)
	if err != nil || code != 0 {
		t.Fatalf("exit after SIGTERM: code %d, err %v", code, err)
	}
	t.Logf("exited 0 in %v after SIGTERM", took.Round(time.Millisecond))
	if !strings.Contains(p.Logs(), "sunucu kapandı") {
		t.Errorf("no shutdown line in the log:\n%s", p.Logs())
	}
}
