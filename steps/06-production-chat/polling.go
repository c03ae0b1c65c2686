package main

// Bu dosya, go-socket.io v1.7.0'ın uzun yoklama (polling) taşımasındaki iki
// hatanın çevresinden dolaşır. Derste anlatılan bir kavram değil, kullanılan
// kütüphanenin eksiğidir; 03'ten 06'ya kadar her adımda aynıdır.
//
//  1. Uzunluklar: Engine.IO 3'te uzun yoklama gövdesi "uzunluk:paket"
//     dizisidir. socket.io-client 2.x uzunluğu JavaScript karakteri
//     (UTF-16 birimi) olarak yazar ve okur; go-socket.io bayt sayar. "ağaç"
//     gibi ASCII dışı harfli bir mesaj bağlantıyı koparırdı.
//     fixPollingLengths iki yönde de çevirir.
//  2. Yükseltme: uzun yoklamadan WebSocket'e geçerken kütüphane eski
//     bağlantıyı kapatır; oturumun okuma döngüsü o sırada eski bağlantıda
//     bekliyorsa hata alır ve yeni WebSocket'i de kapatır. upgradeSafePolling
//     bu ilk hatayı "yeniden dene"ye çevirir.

import (
	"bytes"
	"io"
	"mime"
	"net/http"
	"strconv"
	"sync"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/googollee/go-socket.io/engineio/frame"
	"github.com/googollee/go-socket.io/engineio/packet"
	"github.com/googollee/go-socket.io/engineio/session"
	"github.com/googollee/go-socket.io/engineio/transport"
)

// fixPollingLengths, uzun yoklama isteklerindeki uzunlukları çevirir: gelen
// metin gövdelerinde UTF-16 biriminden bayta, metin (b64) yanıtlarında
// bayttan UTF-16 birimine. İkili (binary) gövdelere dokunmaz; tarayıcılar
// yanıtları ikili biçimde alır ve orada uzunluk zaten bayttır. Gövdeyi
// okuyabilmek için çağıran, r.Body'yi önceden sınırlamalıdır
// (http.MaxBytesReader).
func fixPollingLengths(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("transport") != "polling" || q.Get("j") != "" {
			next.ServeHTTP(w, r)
			return
		}
		switch {
		case r.Method == http.MethodPost && isTextPayload(r.Header.Get("Content-Type")):
			body, err := io.ReadAll(r.Body)
			if err != nil {
				http.Error(w, "İstek gövdesi okunamadı ya da çok büyük.", http.StatusRequestEntityTooLarge)
				return
			}
			if fixed, ok := convertLengths(body, unitsToBytes); ok {
				body = fixed
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			r.ContentLength = int64(len(body))
			next.ServeHTTP(w, r)
		case r.Method == http.MethodGet && q.Get("b64") != "":
			rec := &bufferedResponse{header: http.Header{}, status: http.StatusOK}
			next.ServeHTTP(rec, r)
			body, status := rec.finish()
			if status == http.StatusOK && isTextPayload(rec.header.Get("Content-Type")) {
				if fixed, ok := convertLengths(body, bytesToUnits); ok {
					body = fixed
				}
			}
			for k, v := range rec.header {
				w.Header()[k] = v
			}
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			w.WriteHeader(status)
			_, _ = w.Write(body)
		default:
			next.ServeHTTP(w, r)
		}
	})
}

// isTextPayload, gövdenin metin biçiminde olup olmadığını söyler.
func isTextPayload(contentType string) bool {
	typ, _, err := mime.ParseMediaType(contentType)
	return err == nil && typ == "text/plain"
}

// bufferedResponse, kütüphanenin yanıtını değiştirebilmek için bellekte
// toplar. Kütüphane yanıta başka bir goroutine'den de yazar, hatta
// işleyici döndükten sonra bile; bu yüzden yazmalar kilitlidir ve finish'ten
// sonra gelenler atılır.
type bufferedResponse struct {
	header http.Header

	mu       sync.Mutex
	status   int
	body     bytes.Buffer
	finished bool
}

func (b *bufferedResponse) Header() http.Header { return b.header }

func (b *bufferedResponse) WriteHeader(status int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.finished {
		b.status = status
	}
}

func (b *bufferedResponse) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.finished {
		return 0, http.ErrHandlerTimeout
	}
	return b.body.Write(p)
}

// finish, toplananı döndürür; bundan sonraki yazmalar atılır.
func (b *bufferedResponse) finish() ([]byte, int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.finished = true
	return bytes.Clone(b.body.Bytes()), b.status
}

// convertLengths, "uzunluk:paket" dizisindeki her uzunluğu measure ile
// yeniden hesaplar. Gövde bu biçime uymuyorsa ok false olur ve gövde
// olduğu gibi bırakılır; kararı kütüphane verir.
func convertLengths(p []byte, measure func(rest []byte, n int) (size, newLen int, ok bool)) ([]byte, bool) {
	var out []byte
	for len(p) > 0 {
		colon := bytes.IndexByte(p, ':')
		if colon <= 0 {
			return nil, false
		}
		n, err := strconv.Atoi(string(p[:colon]))
		if err != nil || n < 0 {
			return nil, false
		}
		p = p[colon+1:]
		size, newLen, ok := measure(p, n)
		if !ok {
			return nil, false
		}
		out = strconv.AppendInt(out, int64(newLen), 10)
		out = append(out, ':')
		out = append(out, p[:size]...)
		p = p[size:]
	}
	return out, true
}

// unitsToBytes, n UTF-16 biriminin kaç bayt tuttuğunu bulur.
func unitsToBytes(rest []byte, n int) (size, newLen int, ok bool) {
	units := 0
	for units < n {
		if size >= len(rest) {
			return 0, 0, false
		}
		r, w := utf8.DecodeRune(rest[size:])
		size += w
		units += max(utf16.RuneLen(r), 1)
	}
	if units != n {
		return 0, 0, false // bir vekil çiftin (surrogate pair) ortası
	}
	return size, size, true
}

// bytesToUnits, n baytın kaç UTF-16 birimi olduğunu bulur.
func bytesToUnits(rest []byte, n int) (size, newLen int, ok bool) {
	if n > len(rest) {
		return 0, 0, false
	}
	units := 0
	for i := 0; i < n; {
		r, w := utf8.DecodeRune(rest[i:n])
		i += w
		units += max(utf16.RuneLen(r), 1)
	}
	return n, units, true
}

// upgradeSafePolling, kütüphanenin uzun yoklama taşımasını sarar.
// Yükseltme bitince kütüphane eski bağlantıyı kapatır; oturumun okuma ya da
// yazma döngüsü o anda eski bağlantıda bekliyorsa hata alır ve yeni
// WebSocket'i de kapatır: kullanıcı kopar, o an gönderdiği mesaj kaybolur.
// Sarmalayıcı, duraklatılmışken kapatılan bağlantının ilk hatasını geçici
// bir hataya çevirir; kütüphane geçici hatada yeniden dener ve bu kez yeni
// bağlantıyı kullanır.
type upgradeSafePolling struct{ transport.Transport }

// Accept, uzun yoklama bağlantısını sarmalayarak döndürür.
func (t upgradeSafePolling) Accept(w http.ResponseWriter, r *http.Request) (transport.Conn, error) {
	c, err := t.Transport.Accept(w, r)
	if err != nil {
		return nil, err
	}
	return &pollingConn{Conn: c}, nil
}

// retryError, kütüphanenin geçici hata arayüzünü karşılar.
type retryError struct{}

func (retryError) Error() string   { return "uzun yoklama yerini WebSocket'e bıraktı" }
func (retryError) Temporary() bool { return true }

// pollingConn, duraklatılmış (yükseltilmekte olan) bir bağlantının
// kapatılıp kapatılmadığını izler.
type pollingConn struct {
	transport.Conn

	mu         sync.Mutex
	paused     bool // Pause çağrıldı, Resume çağrılmadı
	superseded bool // duraklatılmışken kapatıldı: yükseltme bitti
	readRetry  bool // okuma için yeniden deneme hakkı kullanıldı
	writeRetry bool // yazma için yeniden deneme hakkı kullanıldı
}

func (c *pollingConn) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.Conn.(http.Handler).ServeHTTP(w, r)
}

func (c *pollingConn) Pause() {
	c.mu.Lock()
	c.paused = true
	c.mu.Unlock()
	c.Conn.(session.Pauser).Pause()
}

func (c *pollingConn) Resume() {
	c.mu.Lock()
	c.paused = false
	c.mu.Unlock()
	c.Conn.(session.Pauser).Resume()
}

func (c *pollingConn) Close() error {
	c.mu.Lock()
	if c.paused {
		c.superseded = true
	}
	c.mu.Unlock()
	return c.Conn.Close()
}

// retryOnce, yükseltmeden sonraki ilk hatada true döndürür; yalnızca bir
// kez, böylece gerçekten kapanan bir oturum sonsuza dek denemez.
func (c *pollingConn) retryOnce(used *bool) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.superseded && !*used {
		*used = true
		return true
	}
	return false
}

func (c *pollingConn) NextReader() (frame.Type, packet.Type, io.ReadCloser, error) {
	ft, pt, r, err := c.Conn.NextReader()
	if err != nil && c.retryOnce(&c.readRetry) {
		return 0, 0, nil, retryError{}
	}
	return ft, pt, r, err
}

func (c *pollingConn) NextWriter(ft frame.Type, pt packet.Type) (io.WriteCloser, error) {
	w, err := c.Conn.NextWriter(ft, pt)
	if err != nil && c.retryOnce(&c.writeRetry) {
		return nil, retryError{}
	}
	return w, err
}
