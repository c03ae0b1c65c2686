// Adım 02: gorilla/websocket ile yankı (echo) sunucusu.
//
// Sayfa /ws adresine bir WebSocket bağlantısı açar. Sunucu gelen her metin
// mesajını aynı bağlantıdan geri gönderir. Böylece tarayıcı ile sunucu
// arasında sürekli açık, iki yönlü bir kanal kurmayı öğreniriz.
package main

import (
	"context"
	_ "embed"
	"errors"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/gorilla/websocket"
)

// indexHTML, sohbet sayfasıdır; derleme sırasında ikili dosyaya gömülür.
//
//go:embed index.html
var indexHTML []byte

// shutdownTimeout, kapanırken açık isteklerin bitmesi için beklenen en uzun
// süredir. Heroku, SIGTERM'den 30 saniye sonra süreci zorla öldürür.
const shutdownTimeout = 10 * time.Second

// WebSocket zaman aşımları ve sınırları, gorilla/websocket örneklerindeki
// gibi.
const (
	// writeWait, bir mesajın yazılması için tanınan süredir.
	writeWait = 10 * time.Second

	// pongWait, karşı taraftan pong (ya da herhangi bir mesaj) beklenen
	// en uzun süredir; bu sürede ses çıkmazsa bağlantı ölü sayılır.
	pongWait = 60 * time.Second

	// pingPeriod, ping gönderme aralığıdır; pongWait'ten kısa olmalıdır.
	// Heroku'nun yönlendiricisi 55 saniye hiç veri geçmeyen bağlantıyı
	// keser; 25 saniyede bir ping (Socket.IO'nun alışılmış aralığı) o
	// sınıra geniş bir pay bırakır. gorilla'nın örneğindeki pongWait'in
	// onda dokuzu (54 saniye) Heroku'da yalnızca bir saniyelik pay olurdu.
	pingPeriod = 25 * time.Second

	// maxMessageSize, istemciden kabul edilen en büyük mesajdır (bayt).
	// Daha büyüğü gelirse yalnızca o bağlantı kapatılır.
	maxMessageSize = 4096
)

// upgrader, HTTP isteğini WebSocket bağlantısına yükseltir. CheckOrigin
// boş bırakıldığı için gorilla'nın varsayılan denetimi çalışır: Origin
// başlığı varsa sunucunun kendi adresiyle aynı olmalıdır. Böylece başka bir
// sitenin sayfası kullanıcı adına bağlantı açamaz.
var upgrader = websocket.Upgrader{
	ReadBufferSize:  1024,
	WriteBufferSize: 1024,
}

// server, HTTP yollarını ve açık WebSocket bağlantılarını tutar.
// http.Server.Shutdown, el değiştirmiş (hijacked) WebSocket bağlantılarını
// kapatmaz; bu yüzden onları kendimiz izleyip kapatırız.
type server struct {
	mux *http.ServeMux

	mu    sync.Mutex
	conns map[*websocket.Conn]struct{}
}

// newServer, sunucunun bütün yollarını bağlar. main ile testler aynı
// sunucuyu kullanır.
func newServer() *server {
	s := &server{
		mux:   http.NewServeMux(),
		conns: make(map[*websocket.Conn]struct{}),
	}
	// "GET /{$}" yalnızca kök yolla eşleşir; "/baska" gibi yollar 404 alır.
	// GET kalıbı HEAD isteklerini de kapsar.
	s.mux.HandleFunc("GET /{$}", serveIndex)
	s.mux.HandleFunc("GET /ws", s.serveWS)
	return s
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mux.ServeHTTP(w, r)
}

// serveIndex, gömülü sohbet sayfasını gönderir.
func serveIndex(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write(indexHTML)
}

// serveWS, isteği WebSocket'e yükseltir ve yankı döngüsünü başlatır.
func (s *server) serveWS(w http.ResponseWriter, r *http.Request) {
	conn, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		// Upgrade, istemciye hata yanıtını zaten gönderdi.
		log.Printf("websocket yükseltmesi reddedildi: %v", err)
		return
	}
	s.track(conn, true)
	log.Printf("bir kullanıcı bağlandı (%s)", r.RemoteAddr)

	send := make(chan []byte, 16)
	writerDone := make(chan struct{})
	go func() {
		writePump(conn, send)
		close(writerDone)
	}()
	readPump(conn, send, writerDone)
	<-writerDone

	s.track(conn, false)
	log.Printf("bir kullanıcı ayrıldı (%s)", r.RemoteAddr)
}

// track, bağlantıyı kapanışta kapatılacaklar listesine ekler ya da çıkarır.
func (s *server) track(conn *websocket.Conn, add bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if add {
		s.conns[conn] = struct{}{}
	} else {
		delete(s.conns, conn)
	}
}

// closeConnections, açık bağlantılara "sunucu kapanıyor" kapanış çerçevesi
// gönderir ve onları kapatır. WriteControl ve Close, başka bir goroutine
// yazarken de güvenle çağrılabilir.
func (s *server) closeConnections() {
	s.mu.Lock()
	defer s.mu.Unlock()
	msg := websocket.FormatCloseMessage(websocket.CloseGoingAway, "sunucu kapanıyor")
	for conn := range s.conns {
		_ = conn.WriteControl(websocket.CloseMessage, msg, time.Now().Add(writeWait))
		_ = conn.Close()
	}
}

// readPump, bağlantıdan mesajları okur ve yankılanmak üzere send'e koyar.
// Bir bağlantıda aynı anda yalnızca bir okuyucu olabilir: o da bu
// fonksiyondur. Döndüğünde send kapanır ve writePump da biter. Yazıcı
// önce biterse (writerDone), okuyucu send'de takılı kalmaz.
func readPump(conn *websocket.Conn, send chan<- []byte, writerDone <-chan struct{}) {
	defer close(send)
	conn.SetReadLimit(maxMessageSize)
	_ = conn.SetReadDeadline(time.Now().Add(pongWait))
	conn.SetPongHandler(func(string) error {
		return conn.SetReadDeadline(time.Now().Add(pongWait))
	})
	for {
		msgType, msg, err := conn.ReadMessage()
		if err != nil {
			if errors.Is(err, websocket.ErrReadLimit) {
				log.Printf("mesaj çok büyük (en çok %d bayt): bağlantı kapatıldı", maxMessageSize)
			}
			return
		}
		if msgType != websocket.TextMessage {
			continue // yalnızca metin mesajlarını yankılıyoruz
		}
		_ = conn.SetReadDeadline(time.Now().Add(pongWait))
		select {
		case send <- msg:
		case <-writerDone:
			return
		}
	}
}

// writePump, send'e gelen mesajları ve düzenli pingleri yazar. Bir
// bağlantıda aynı anda yalnızca bir yazıcı olabilir: o da bu fonksiyondur.
func writePump(conn *websocket.Conn, send <-chan []byte) {
	ticker := time.NewTicker(pingPeriod)
	defer func() {
		ticker.Stop()
		_ = conn.Close()
	}()
	for {
		select {
		case msg, ok := <-send:
			_ = conn.SetWriteDeadline(time.Now().Add(writeWait))
			if !ok {
				_ = conn.WriteMessage(websocket.CloseMessage, []byte{})
				return
			}
			if err := conn.WriteMessage(websocket.TextMessage, msg); err != nil {
				return
			}
		case <-ticker.C:
			_ = conn.SetWriteDeadline(time.Now().Add(writeWait))
			if err := conn.WriteMessage(websocket.PingMessage, nil); err != nil {
				return
			}
		}
	}
}

func main() {
	port := os.Getenv("PORT")
	if port == "" {
		port = "3000"
	}

	// Ctrl+C (SIGINT) ya da Heroku'nun SIGTERM'i gelince ctx iptal olur.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	if err := run(ctx, ":"+port); err != nil {
		log.Fatal(err)
	}
}

// run, sunucuyu addr üzerinde başlatır ve ctx iptal olunca düzgünce kapatır.
func run(ctx context.Context, addr string) error {
	handler := newServer()
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
	}
	// Shutdown, WebSocket bağlantılarını kendisi kapatmaz; bu kancayla
	// kapatırız. Kanca ayrı bir goroutine'de çalışır; bitmesini closed ile
	// bekleriz.
	closed := make(chan struct{})
	srv.RegisterOnShutdown(func() {
		handler.closeConnections()
		close(closed)
	})

	// Önce portu açıyoruz, sonra "dinliyor" diyoruz: bu satır
	// göründüğünde bağlantılar gerçekten kabul edilir.
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	log.Printf("sunucu dinliyor: http://localhost:%d", ln.Addr().(*net.TCPAddr).Port)

	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()

	select {
	case err := <-serveErr:
		return err
	case <-ctx.Done():
	}

	log.Print("kapanıyor: yeni bağlantı alınmıyor")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return err
	}
	<-closed
	if err := <-serveErr; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	log.Print("sunucu kapandı")
	return nil
}
