// Adım 05: herkese yayın (broadcast).
//
// Sunucu, aldığı her "chat message" olayını gönderen dahil bağlı herkese
// yayınlar; sayfa gelen her mesajı listeye ekler. Artık gerçek bir sohbet
// odamız var.
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

	socketio "github.com/googollee/go-socket.io"

	"sohbet/internal/gosocketio"
	"sohbet/third_party/socketioclient"
)

// indexHTML, sohbet sayfasıdır; derleme sırasında ikili dosyaya gömülür.
//
//go:embed index.html
var indexHTML []byte

// shutdownTimeout, kapanırken açık isteklerin bitmesi için beklenen en uzun
// süredir. Heroku, SIGTERM'den 30 saniye sonra süreci zorla öldürür.
const shutdownTimeout = 10 * time.Second

// chatRoom, herkesin katıldığı ortak odadır. Yayını bu tek odaya yaparız:
// go-socket.io her bağlantıyı kendi kimliğiyle adlandırılmış bir odaya da
// koyar ve BroadcastToNamespace odalar üzerinde dolaştığı için iki odadaki
// bir kullanıcıya aynı mesajı iki kez gönderir.
const chatRoom = "sohbet"

// server, HTTP yollarını, Socket.IO sunucusunu ve açık bağlantıları tutar.
type server struct {
	*http.ServeMux
	io *socketio.Server

	// conns, açık bağlantılardır (kimlikten socketio.Conn'a); kapanışta
	// hepsini kapatırız. İşleyiciler farklı goroutine'lerden çağrılır;
	// sync.Map buna göre yazılmıştır.
	conns sync.Map
}

// newServer, sunucunun yollarını ve Socket.IO olaylarını bağlar.
// allowedOrigins, ALLOWED_ORIGINS ortam değişkeninden gelir.
func newServer(allowedOrigins []string) *server {
	s := &server{ServeMux: http.NewServeMux()}

	// go-socket.io'nun sunucusu, internal/gosocketio'nun güvenli
	// ayarlarıyla: kütüphanenin hatalarını ve güvensiz varsayılanlarını o
	// paket düzeltir (README'deki "Ortak paket" bölümü).
	opts := gosocketio.Options{AllowedOrigins: allowedOrigins}
	s.io = gosocketio.NewServer(opts)

	// İstemci bağlanınca ve ayrılınca çağrılan işleyiciler. "/" ad alanına
	// en az bir işleyici bağlamak şarttır: ad alanını ona bağlanan ilk
	// işleyici oluşturur; hiç işleyici yoksa go-socket.io her bağlantıyı
	// kapatır.
	s.io.OnConnect("/", func(c socketio.Conn) error {
		s.conns.Store(c.ID(), c)
		c.Join(chatRoom)
		log.Printf("bir kullanıcı bağlandı (id=%s)", c.ID())
		return nil
	})
	s.io.OnDisconnect("/", func(c socketio.Conn, reason string) {
		s.conns.Delete(c.ID())
		log.Printf("bir kullanıcı ayrıldı (id=%s, neden: %s)", c.ID(), reason)
	})
	// Sayfa, "chat message" olayını yazılan metinle gönderir. Parametreyi
	// string değil any olarak alıyoruz: go-socket.io, olayın verisi
	// işleyicinin türüne uymazsa (metin yerine bir nesne ya da sayı
	// gelirse) bütün bağlantıyı kapatır. any her JSON değerini kabul eder;
	// türünü kendimiz denetleriz.
	s.io.OnEvent("/", "chat message", func(c socketio.Conn, msg any) {
		text, ok := msg.(string)
		if !ok {
			log.Printf("yanlış türde mesaj yok sayıldı (id=%s, tür: %T)", c.ID(), msg)
			return
		}
		// %q, satır sonu içeren bir mesajın sahte günlük satırı
		// üretmesini önler.
		log.Printf("mesaj: %q", text)
		// Gönderen dahil odadaki herkese. BroadcastToRoom, odanın
		// kilidini tutarken her bağlantıya sırayla yazar; yavaş bir
		// istemci herkesi bekletebilir. 06. adım bunu çözer.
		s.io.BroadcastToRoom("/", chatRoom, "chat message", text)
	})
	// Çözülemeyen bir paket (bozuk JSON gibi) buraya gelir; go-socket.io
	// o bağlantıyı kapatır.
	s.io.OnError("/", func(c socketio.Conn, err error) {
		log.Printf("socket.io hatası: %v", err)
	})

	// "GET /{$}" yalnızca kök yolla eşleşir; "/baska" gibi yollar 404 alır.
	s.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write(indexHTML)
	})
	// Tarayıcı istemcisini kendimiz sunarız; go-socket.io sunmaz.
	s.Handle("GET "+socketioclient.Path, socketioclient.Handler())
	s.Handle("/socket.io/", gosocketio.Handler(s.io, opts))
	return s
}

// closeConnections, açık bağlantıları kapatır; her Close, OnDisconnect'i
// de çağırır.
func (s *server) closeConnections() {
	s.conns.Range(func(_, c any) bool {
		_ = c.(socketio.Conn).Close()
		return true
	})
}

func main() {
	port := os.Getenv("PORT")
	if port == "" {
		port = "3000"
	}
	// Ctrl+C (SIGINT) ya da Heroku'nun SIGTERM'i gelince ctx iptal olur.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, ":"+port, gosocketio.ParseOrigins(os.Getenv("ALLOWED_ORIGINS"))); err != nil {
		log.Fatal(err)
	}
}

// run, sunucuyu addr üzerinde başlatır ve ctx iptal olunca düzgünce kapatır.
func run(ctx context.Context, addr string, allowedOrigins []string) error {
	handler := newServer(allowedOrigins)
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	// Shutdown, WebSocket bağlantılarını kapatmaz; onları bu kancada biz
	// kapatırız. Kanca ayrı bir goroutine'de çalışır; bitişini bekleriz.
	closed := make(chan struct{})
	srv.RegisterOnShutdown(func() {
		handler.closeConnections()
		close(closed)
	})

	// Socket.IO sunucusu yeni bağlantıları kendi döngüsünde kabul eder;
	// gosocketio.Close onu, kurulmakta olan oturumları bekleyerek kapatır.
	go func() { _ = handler.io.Serve() }()
	defer gosocketio.Close(handler.io)

	// Önce portu açıyoruz, sonra "dinliyor" diyoruz: bu satır göründüğünde
	// bağlantılar gerçekten kabul edilir.
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
