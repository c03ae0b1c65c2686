package socketioclient

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestEmbeddedFileMatchesPinnedChecksum(t *testing.T) {
	sum := sha256.Sum256(JS)
	if got := hex.EncodeToString(sum[:]); got != SHA256 {
		t.Fatalf("socket.io.js SHA-256 = %s, pinned %s: the file changed without the pin", got, SHA256)
	}
}

func TestEmbeddedFileKeepsLicenseHeaderAndVersion(t *testing.T) {
	header := []byte("/*!\n * Socket.IO v" + Version + "\n")
	if !bytes.HasPrefix(JS, header) {
		t.Fatalf("socket.io.js does not start with %q", header)
	}
	if !bytes.Contains(JS[:200], []byte("Released under the MIT License.")) {
		t.Fatal("socket.io.js lost its license line")
	}
}

func TestHandlerServesTheBundle(t *testing.T) {
	tests := []struct {
		method   string
		wantCode int
		wantBody bool
	}{
		{http.MethodGet, http.StatusOK, true},
		{http.MethodHead, http.StatusOK, false},
		{http.MethodPost, http.StatusMethodNotAllowed, false},
	}
	for _, tt := range tests {
		t.Run(tt.method, func(t *testing.T) {
			rec := httptest.NewRecorder()
			Handler().ServeHTTP(rec, httptest.NewRequest(tt.method, Path, nil))
			if rec.Code != tt.wantCode {
				t.Fatalf("status = %d, want %d", rec.Code, tt.wantCode)
			}
			if tt.wantCode != http.StatusOK {
				return
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/javascript; charset=utf-8" {
				t.Errorf("Content-Type = %q", ct)
			}
			if got := bytes.Equal(rec.Body.Bytes(), JS); got != tt.wantBody {
				t.Errorf("body is the bundle: %v, want %v", got, tt.wantBody)
			}
		})
	}
}

func TestHandlerAnswersConditionalRequests(t *testing.T) {
	req := httptest.NewRequest(http.MethodGet, Path, nil)
	req.Header.Set("If-None-Match", `"`+SHA256[:16]+`"`)
	rec := httptest.NewRecorder()
	Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusNotModified {
		t.Fatalf("status = %d, want 304", rec.Code)
	}
}
