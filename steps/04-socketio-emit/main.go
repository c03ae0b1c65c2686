// Adım 04: olay göndermek (emit).
//
// Sayfa, yazılan metni "chat message" olayıyla sunucuya gönderir; sunucu
// olayı alır ve günlüğe yazar. Mesajı herkese dağıtmayı 05. adımda
// ekleyeceğiz.
package main

import (
	"context"
	"crypto/rand"
	_ "embed"
	"encoding/base64"
	"errors"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	socketio "github.com/googollee/go-socket.io"
	"github.com/googollee/go-socket.io/engineio"
	"github.com/googollee/go-socket.io/engineio/transport"
	"github.com/googollee/go-socket.io/engineio/transport/polling"
	"github.com/googollee/go-socket.io/engineio/transport/websocket"

	"sohbet/third_party/socketioclient"
)

// indexHTML, sohbet sayfasıdır; derleme sırasında ikili dosyaya gömülür.
//
//go:embed index.html
var indexHTML []byte

// maxPollBodyBytes, uzun yoklamada bir POST gövdesinin en büyük
// boyutudur. Daha büyük bir istek reddedilir; kimse sunucuya megabaytlarca
// veri okutamaz.
const maxPollBodyBytes = 1 << 20

// shutdownTimeout, kapanırken açık isteklerin bitmesi için beklenen en uzun
// süredir. Heroku, SIGTERM'den 30 saniye sonra süreci zorla öldürür.
const shutdownTimeout = 10 * time.Second

// eioRefusal, eski protokolü konuşan bu sunucuya yeni bir istemci (3.x ya
// da 4.x) bağlanmaya çalıştığında gönderilen açıklamadır.
const eioRefusal = "Bu sunucu Engine.IO 3 protokolünü konuşur: socket.io-client 2.x " +
	"(sayfadaki /socket.io/socket.io.js, sürüm " + socketioclient.Version + ") kullanın; " +
	"3.x ve 4.x istemcileri bağlanamaz.\n" +
	"This server speaks Engine.IO 3: use socket.io-client 2.x, not 3.x or 4.x.\n"

// server, HTTP yollarını, Socket.IO sunucusunu ve açık bağlantıları tutar.
type server struct {
	mux *http.ServeMux
	io  *socketio.Server

	// allowedOrigins, sayfanın kendi kökeni dışında izin verilen
	// kökenlerdir (örneğin "https://ornek.com").
	allowedOrigins map[string]bool

	mu    sync.Mutex
	conns map[string]socketio.Conn
}

// newServer, sunucunun bütün yollarını ve Socket.IO olaylarını bağlar.
// allowedOrigins, ALLOWED_ORIGINS ortam değişkeninden gelir.
func newServer(allowedOrigins []string) *server {
	s := &server{
		mux:            http.NewServeMux(),
		allowedOrigins: make(map[string]bool),
		conns:          make(map[string]socketio.Conn),
	}
	for _, o := range allowedOrigins {
		s.allowedOrigins[o] = true
	}

	s.io = socketio.NewServer(&engineio.Options{
		// Her iki taşıma da aynı köken denetimini kullanır. Denetimi
		// true döndüren bir fonksiyonla kapatmak, her siteye kullanıcı
		// çerezleriyle bağlanma izni vermek olur: asla yapmayın.
		Transports: []transport.Transport{
			upgradeSafePolling{&polling.Transport{CheckOrigin: s.originAllowed}},
			&websocket.Transport{CheckOrigin: s.originAllowed},
		},
		// Kütüphanenin varsayılan oturum kimlikleri 1, 2, 3 diye gider
		// ve tahmin edilebilir. Rastgele kimlik üretiyoruz.
		SessionIDGenerator: randomID{},
	})

	// "/" ad alanı için bir OnConnect işleyicisi şarttır: yoksa
	// go-socket.io bütün bağlantıları reddeder.
	s.io.OnConnect("/", func(c socketio.Conn) error {
		s.track(c, true)
		log.Printf("bir kullanıcı bağlandı (id=%s)", c.ID())
		return nil
	})
	s.io.OnDisconnect("/", func(c socketio.Conn, _ string) {
		s.track(c, false)
		log.Printf("bir kullanıcı ayrıldı (id=%s)", c.ID())
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
	})
	s.io.OnError("/", func(c socketio.Conn, err error) {
		log.Printf("socket.io hatası: %v", err)
	})

	// "GET /{$}" yalnızca kök yolu eşler; "/baska" gibi yollar 404 alır.
	// GET kalıbı HEAD isteklerini de kapsar.
	s.mux.HandleFunc("GET /{$}", serveIndex)
	// Tarayıcı istemcisini kendimiz sunarız; go-socket.io sunmaz.
	s.mux.Handle("GET "+socketioclient.Path, socketioclient.Handler())
	s.mux.Handle("/socket.io/", s.checkRequest(fixPollingLengths(s.io)))
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

// checkRequest, Socket.IO isteklerini kütüphaneye ulaşmadan denetler:
// protokol sürümü ve köken. Uzun yoklama (polling) istekleri CheckOrigin'e
// takılmaz (o yalnızca CORS başlıklarını belirler), bu yüzden kökeni
// burada, iki taşıma için de reddederiz.
func (s *server) checkRequest(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if eio := r.URL.Query().Get("EIO"); eio != "3" {
			log.Printf("bağlantı reddedildi: istemci EIO=%q istedi, bu sunucu yalnızca EIO=3 (socket.io-client 2.x) konuşur", eio)
			http.Error(w, eioRefusal, http.StatusBadRequest)
			return
		}
		if r.Header.Get("Origin") != "" && !s.originAllowed(r) {
			log.Printf("bağlantı reddedildi: izin verilmeyen köken %q", r.Header.Get("Origin"))
			http.Error(w, "Bu kökene izin verilmiyor: "+r.Header.Get("Origin"), http.StatusForbidden)
			return
		}
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, maxPollBodyBytes)
		}
		next.ServeHTTP(w, r)
	})
}

// originAllowed, isteğin Origin başlığı sunucunun kendi adresiyse ya da
// izin listesindeyse true döndürür. Origin başlığı olmayan istekler
// tarayıcıdan gelmez (örneğin terminal istemcisi); onlara izin verilir.
func (s *server) originAllowed(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil {
		return false
	}
	if strings.EqualFold(u.Host, r.Host) {
		return true
	}
	return s.allowedOrigins[normalizeOrigin(origin)]
}

// parseOrigins, "https://a.com, https://b.com" biçimindeki listeyi ayırır.
func parseOrigins(list string) []string {
	var origins []string
	for _, o := range strings.Split(list, ",") {
		if o = normalizeOrigin(o); o != "" {
			origins = append(origins, o)
		}
	}
	return origins
}

// normalizeOrigin, kökeni karşılaştırılabilir biçime getirir: boşluksuz,
// küçük harf, sonda eğik çizgi yok.
func normalizeOrigin(o string) string {
	return strings.TrimSuffix(strings.ToLower(strings.TrimSpace(o)), "/")
}

// randomID, tahmin edilemeyen oturum kimlikleri üretir (128 bit).
type randomID struct{}

// NewID, rastgele bir oturum kimliği döndürür.
func (randomID) NewID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// track, bağlantıyı kapanışta kapatılacaklar listesine ekler ya da çıkarır.
func (s *server) track(c socketio.Conn, add bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if add {
		s.conns[c.ID()] = c
	} else {
		delete(s.conns, c.ID())
	}
}

// closeConnections, açık Socket.IO bağlantılarını kapatır. Close,
// OnDisconnect'i çağırır ve o da kilidi ister; bu yüzden önce listenin bir
// kopyasını alıp kilidi bırakırız.
func (s *server) closeConnections() {
	s.mu.Lock()
	conns := make([]socketio.Conn, 0, len(s.conns))
	for _, c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		_ = c.Close()
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

	if err := run(ctx, ":"+port, parseOrigins(os.Getenv("ALLOWED_ORIGINS"))); err != nil {
		log.Fatal(err)
	}
}

// run, sunucuyu addr üzerinde başlatır ve ctx iptal olunca düzgünce kapatır.
func run(ctx context.Context, addr string, allowedOrigins []string) error {
	handler := newServer(allowedOrigins)
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
	}
	// Shutdown, Socket.IO bağlantılarını kendisi kapatmaz; bu kancayla
	// kapatırız. Kanca ayrı bir goroutine'de çalışır; bitmesini closed ile
	// bekleriz.
	closed := make(chan struct{})
	srv.RegisterOnShutdown(func() {
		handler.closeConnections()
		close(closed)
	})

	// Socket.IO sunucusu yeni bağlantıları kendi döngüsünde kabul eder.
	go func() { _ = handler.io.Serve() }()
	defer handler.io.Close()

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
