// Adım 06: demodan servise, üretime hazır sohbet.
//
// Sayfa ve olaylar 05. adımla aynıdır. Değişen, sunucunun kötü koşullara
// dayanıklılığıdır: her bağlantının kendi sınırlı kuyruğu ve yazıcısı var
// (hub.go), mesajlar boyut ve hız sınırından geçer (limits.go), bağlantı
// sayısı sınırlıdır, zamanlamalar Heroku'nun yönlendiricisine uyar,
// /healthz platforma durumu söyler, günlükler log/slog ile yapılandırılmıştır
// ve SIGTERM'de herkese haber verilip düzgünce kapanılır. Heroku'da yayına
// alınan adım budur.
package main

import (
	"context"
	"crypto/rand"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
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

// Zamanlamalar. Heroku'nun yönlendiricisi 55 saniye sessiz kalan bir
// bağlantıyı keser ve bir isteğin yanıtı 30 saniye içinde başlamalıdır.
const (
	// pingInterval, istemcinin ping gönderme aralığıdır. Uzun yoklamada
	// sunucu pong'u bekleyen GET isteğiyle gönderir; böylece her istek en
	// geç bu sürede yanıtlanır ve hiçbir bağlantı 55 saniye sessiz kalmaz.
	pingInterval = 10 * time.Second

	// pingTimeout, go-socket.io'nun son ping'den sonra bağlantıyı ölü
	// saymadan önce beklediği süredir (okuma ve yazma süre sınırı).
	// Ping'ler pingInterval'da bir gelir; yük altında gecikebilecekleri
	// için pingTimeout ondan belirgin biçimde uzun olmalıdır. Habersizce
	// kaybolan bir kullanıcı en geç 20 saniyede fark edilir.
	pingTimeout = 20 * time.Second

	// shutdownTimeout, kapanışın tamamı için üst sınırdır. Heroku,
	// SIGTERM'den 30 saniye sonra süreci zorla öldürür.
	shutdownTimeout = 10 * time.Second

	// noticeWait, kapanırken "sunucu yeniden başlıyor" bildiriminin
	// gönderilmesi için beklenen en uzun süredir.
	noticeWait = 2 * time.Second

	// noticeEvery, bir kullanıcıya "mesajınız gönderilmedi" bildirimi ve
	// günlük satırı için en kısa aralıktır. Sel yapan bir istemci, sunucuyu
	// bildirim ve günlük seline çeviremez.
	noticeEvery = time.Second
)

// restartNotice, kapanışta herkese gönderilen bildirimdir.
const restartNotice = "Sunucu yeniden başlıyor; birazdan kendiliğinden yeniden bağlanacaksınız."

// eioRefusal, eski protokolü konuşan bu sunucuya yeni bir istemci (3.x ya
// da 4.x) bağlanmaya çalıştığında gönderilen açıklamadır.
const eioRefusal = "Bu sunucu Engine.IO 3 protokolünü konuşur: socket.io-client 2.x " +
	"(sayfadaki /socket.io/socket.io.js, sürüm " + socketioclient.Version + ") kullanın; " +
	"3.x ve 4.x istemcileri bağlanamaz.\n" +
	"This server speaks Engine.IO 3: use socket.io-client 2.x, not 3.x or 4.x.\n"

// config, ortam değişkenleriyle değiştirilebilen ayarlardır. Varsayılanlar
// tek bir Heroku Basic dyno'ya (512 MB bellek) göre seçildi.
type config struct {
	// allowedOrigins, sayfanın kendi kökeni dışında izin verilen
	// kökenlerdir (ALLOWED_ORIGINS, virgülle ayrılmış).
	allowedOrigins []string
	// maxConnections, aynı anda açık en çok bağlantıdır (MAX_CONNECTIONS).
	maxConnections int
	// maxMessageBytes, bir mesajın en büyük boyutudur (MAX_MESSAGE_BYTES).
	maxMessageBytes int
	// messageRate, bir bağlantının saniyede gönderebileceği mesajdır
	// (MESSAGE_RATE); messageBurst, art arda izin verilen en çok mesajdır
	// (MESSAGE_BURST).
	messageRate  float64
	messageBurst int
	// sendQueue, her bağlantının giden kuyruğunun uzunluğudur
	// (SEND_QUEUE). Dolan kuyruğun sahibi yetişemiyor demektir.
	sendQueue int
}

// loadConfig, ayarları getenv'den okur (main'de os.Getenv). Geçersiz bir
// değer, sunucu hiç başlamadan açık bir hatayla bildirilir.
func loadConfig(getenv func(string) string) (config, error) {
	cfg := config{allowedOrigins: parseOrigins(getenv("ALLOWED_ORIGINS"))}
	var errs []error
	intVar := func(dst *int, name string, def int) {
		*dst = def
		if v := getenv(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				errs = append(errs, fmt.Errorf("%s=%q: pozitif bir tam sayı olmalı", name, v))
				return
			}
			*dst = n
		}
	}
	intVar(&cfg.maxConnections, "MAX_CONNECTIONS", 1000)
	intVar(&cfg.maxMessageBytes, "MAX_MESSAGE_BYTES", 2000)
	intVar(&cfg.messageBurst, "MESSAGE_BURST", 10)
	intVar(&cfg.sendQueue, "SEND_QUEUE", 256)
	cfg.messageRate = 5
	if v := getenv("MESSAGE_RATE"); v != "" {
		r, err := strconv.ParseFloat(v, 64)
		if err != nil || r <= 0 || r > 1e6 {
			errs = append(errs, fmt.Errorf("MESSAGE_RATE=%q: pozitif bir sayı olmalı", v))
		} else {
			cfg.messageRate = r
		}
	}
	return cfg, errors.Join(errs...)
}

// maxPollBodyBytes, uzun yoklamada bir POST gövdesinin en büyük boyutudur.
// Mesaj sınırını aşan ama bunun altında kalan bir mesaj bildirimle
// reddedilir ve bağlantı açık kalır; bu sınırı aşan bir istek 400 alır ve
// bağlantı kapanır. Böylece kimse sunucuya megabaytlarca veri okutamaz.
func (c config) maxPollBodyBytes() int64 {
	return int64(c.maxMessageBytes)*8 + 64*1024
}

// server, HTTP yollarını, Socket.IO sunucusunu ve kullanıcıları tutar.
type server struct {
	cfg config
	log *slog.Logger
	mux *http.ServeMux
	io  *socketio.Server
	hub *hub

	// allowedOrigins, cfg.allowedOrigins'in hızlı aranan biçimidir.
	allowedOrigins map[string]bool

	// shuttingDown, kapanış başlayınca true olur: yeni bağlantı
	// alınmaz, /healthz 503 döndürür.
	shuttingDown atomic.Bool
}

// newServer, sunucunun bütün yollarını ve Socket.IO olaylarını bağlar.
// main ile testler aynı sunucuyu kullanır.
func newServer(cfg config, log *slog.Logger) *server {
	s := &server{
		cfg:            cfg,
		log:            log,
		mux:            http.NewServeMux(),
		hub:            newHub(cfg.sendQueue, log),
		allowedOrigins: make(map[string]bool),
	}
	for _, o := range cfg.allowedOrigins {
		s.allowedOrigins[o] = true
	}

	s.io = socketio.NewServer(&engineio.Options{
		PingInterval: pingInterval,
		PingTimeout:  pingTimeout,
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
		if s.shuttingDown.Load() {
			return errors.New("sunucu kapanıyor")
		}
		s.hub.add(c, newRateLimiter(cfg.messageRate, cfg.messageBurst, time.Now()))
		s.log.Info("bağlandı", "id", c.ID(), "taşıma", transportOf(c), "kullanıcılar", s.hub.count())
		return nil
	})
	s.io.OnDisconnect("/", func(c socketio.Conn, reason string) {
		s.hub.remove(c.ID())
		s.log.Info("ayrıldı", "id", c.ID(), "neden", reason, "kullanıcılar", s.hub.count())
	})
	// Parametre any: go-socket.io, veri işleyicinin türüne uymazsa bütün
	// bağlantıyı kapatır. any her JSON değerini kabul eder; türünü
	// validateMessage denetler.
	s.io.OnEvent("/", "chat message", s.onChatMessage)
	s.io.OnError("/", func(c socketio.Conn, err error) {
		id := ""
		if c != nil {
			id = c.ID()
		}
		s.log.Warn("socket.io hatası", "id", id, "hata", err)
	})

	// "GET /{$}" yalnızca kök yolu eşler; "/baska" gibi yollar 404 alır.
	// GET kalıbı HEAD isteklerini de kapsar.
	s.mux.HandleFunc("GET /{$}", serveIndex)
	s.mux.HandleFunc("GET /healthz", s.serveHealth)
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

// health, /healthz yanıtıdır.
type health struct {
	Status      string `json:"status"`
	Connections int    `json:"connections"`
}

// serveHealth, platformun ve izleme araçlarının sorduğu durum yanıtıdır.
// Kapanış başladıysa 503 döndürür.
func (s *server) serveHealth(w http.ResponseWriter, r *http.Request) {
	h, code := health{Status: "ok", Connections: s.hub.count()}, http.StatusOK
	if s.shuttingDown.Load() {
		h.Status, code = "shutting down", http.StatusServiceUnavailable
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(h)
}

// onChatMessage, bir kullanıcının mesajını sınırlardan geçirir ve herkese
// yayınlar. Bir bağlantının olaylarını go-socket.io sırayla, o bağlantının
// okuma goroutine'inde çağırır; burada hiçbir şeyi beklememeliyiz.
func (s *server) onChatMessage(conn socketio.Conn, msg any) {
	c, ok := s.hub.get(conn.ID())
	if !ok {
		return
	}
	now := time.Now()
	if !c.limiter.allow(now) {
		s.reject(c, now, errRateHigh)
		return
	}
	text, err := validateMessage(msg, s.cfg.maxMessageBytes)
	if err != nil {
		s.reject(c, now, err)
		return
	}
	s.hub.broadcast("chat message", text)
}

// reject, reddedilen mesajı yalnızca gönderene bildirir ve günlüğe yazar;
// mesajın içeriğini asla yazmaz. Sel yapan bir istemci için bildirim ve
// günlük satırı noticeEvery'de bir ile sınırlıdır.
func (s *server) reject(c *client, now time.Time, reason error) {
	if now.Sub(c.lastNotice) < noticeEvery {
		return
	}
	c.lastNotice = now
	s.log.Warn("mesaj reddedildi", "id", c.conn.ID(), "neden", reason)
	c.notify("chat notice", "Mesajınız gönderilmedi: "+reason.Error()+".")
}

// checkRequest, Socket.IO isteklerini kütüphaneye ulaşmadan denetler:
// protokol sürümü, köken, bağlantı sınırı ve istek gövdesinin boyutu.
// Uzun yoklama (polling) istekleri CheckOrigin'e takılmaz (o yalnızca CORS
// başlıklarını belirler), bu yüzden kökeni burada, iki taşıma için de
// reddederiz.
func (s *server) checkRequest(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if eio := r.URL.Query().Get("EIO"); eio != "3" {
			s.log.Warn("bağlantı reddedildi: desteklenmeyen protokol", "EIO", eio)
			http.Error(w, eioRefusal, http.StatusBadRequest)
			return
		}
		if r.Header.Get("Origin") != "" && !s.originAllowed(r) {
			s.log.Warn("bağlantı reddedildi: izin verilmeyen köken", "origin", r.Header.Get("Origin"))
			http.Error(w, "Bu kökene izin verilmiyor: "+r.Header.Get("Origin"), http.StatusForbidden)
			return
		}
		if r.URL.Query().Get("sid") == "" {
			// Yeni bir bağlantı isteği (el sıkışma).
			if s.shuttingDown.Load() {
				http.Error(w, "Sunucu yeniden başlıyor; birazdan tekrar deneyin.", http.StatusServiceUnavailable)
				return
			}
			if n := s.io.Count(); n >= s.cfg.maxConnections {
				s.log.Warn("bağlantı reddedildi: sunucu dolu", "bağlantılar", n, "sınır", s.cfg.maxConnections)
				http.Error(w, fmt.Sprintf("Sunucu dolu: en çok %d bağlantı. Biraz sonra tekrar deneyin.", s.cfg.maxConnections), http.StatusServiceUnavailable)
				return
			}
		}
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, s.cfg.maxPollBodyBytes())
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

// transportOf, bağlantının el sıkışmada kullandığı taşımadır.
func transportOf(c socketio.Conn) string {
	u := c.URL()
	return u.Query().Get("transport")
}

// randomID, tahmin edilemeyen oturum kimlikleri üretir (128 bit).
type randomID struct{}

// NewID, rastgele bir oturum kimliği döndürür.
func (randomID) NewID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func main() {
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))

	cfg, err := loadConfig(os.Getenv)
	if err != nil {
		logger.Error("ayarlar geçersiz", "hata", err)
		os.Exit(1)
	}
	tuneGC(logger)

	port := os.Getenv("PORT")
	if port == "" {
		port = "3000"
	}

	// Ctrl+C (SIGINT) ya da Heroku'nun SIGTERM'i gelince ctx iptal olur.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	if err := run(ctx, ":"+port, cfg, logger); err != nil {
		logger.Error("sunucu durdu", "hata", err)
		os.Exit(1)
	}
}

// tuneGC, çöp toplayıcıyı yayına göre ayarlar (GOGC ve GOMEMLIMIT ortam
// değişkenleri verilmişse onlara dokunmaz). go-socket.io her Emit'te bellek
// ayırır; herkese yayında çöp toplama zamanın çoğunu alır. Ölçümde GOGC=400,
// 1000 kullanıcılı yükte gecikmenin 99. yüzdeliğini on kat düşürdü.
// GOMEMLIMIT ise 512 MB'lık dyno'da bellek sınıra yaklaşınca toplayıcıyı
// erken çalıştırır.
func tuneGC(logger *slog.Logger) {
	gogc := os.Getenv("GOGC")
	if gogc == "" {
		debug.SetGCPercent(400)
		gogc = "400"
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(400 << 20)
	}
	// SetMemoryLimit'e negatif değer vermek sınırı değiştirmez, okur.
	logger.Info("çöp toplayıcı ayarı", "GOGC", gogc, "GOMEMLIMIT_bayt", debug.SetMemoryLimit(-1))
}

// run, sunucuyu addr üzerinde başlatır ve ctx iptal olunca düzgünce kapatır.
func run(ctx context.Context, addr string, cfg config, logger *slog.Logger) error {
	handler := newServer(cfg, logger)
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
	}
	// Shutdown, Socket.IO bağlantılarını kendisi kapatmaz; bu kancayla
	// herkese haber verip kapatırız. Kanca ayrı bir goroutine'de çalışır;
	// bitmesini closed ile bekleriz.
	closed := make(chan struct{})
	srv.RegisterOnShutdown(func() {
		handler.hub.closeAll(restartNotice, noticeWait)
		close(closed)
	})

	// Socket.IO sunucusu yeni bağlantıları kendi döngüsünde kabul eder.
	go func() { _ = handler.io.Serve() }()

	// Önce portu açıyoruz, sonra "dinliyor" diyoruz: bu satır
	// göründüğünde bağlantılar gerçekten kabul edilir.
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	logger.Info("sunucu dinliyor", "adres", fmt.Sprintf("http://localhost:%d", ln.Addr().(*net.TCPAddr).Port),
		"en_çok_bağlantı", cfg.maxConnections, "en_büyük_mesaj", cfg.maxMessageBytes,
		"mesaj_hızı", cfg.messageRate, "mesaj_patlaması", cfg.messageBurst, "kuyruk", cfg.sendQueue)

	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()

	select {
	case err := <-serveErr:
		return err
	case <-ctx.Done():
	}

	start := time.Now()
	handler.shuttingDown.Store(true)
	logger.Info("kapanıyor: yeni bağlantı alınmıyor", "kullanıcılar", handler.hub.count())
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return err
	}
	<-closed
	if err := <-serveErr; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	// HTTP kapandı, artık yeni oturum açılamaz; Socket.IO'nun kabul
	// döngüsünü şimdi durdurmak güvenlidir.
	_ = handler.io.Close()
	logger.Info("sunucu kapandı", "süre", time.Since(start).Round(time.Millisecond))
	return nil
}
