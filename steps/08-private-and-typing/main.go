// Adım 08: "yazıyor…" ve özel mesajlar.
//
// Alıcıyı seçmenin iki yeni yolu: "typing" olayı yazanın kendisi dışındaki
// herkese gider, "private message" ise yalnızca adı verilen kişiye ve
// gönderene. Kimin neyi alacağına sayfa değil sunucu karar verir
// (hub.go'daki toOthers ve sendPrivate). Yazma bildirimleri kendi hız
// sınırından geçer, özel mesajlar herkese giden mesajlarınkinden.
package main

import (
	"cmp"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"sync/atomic"
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

	// idleTimeout, boşta bekleyen bir HTTP bağlantısının (iki uzun yoklama
	// isteği arasında) en uzun ömrüdür.
	idleTimeout = time.Minute

	// shutdownTimeout, kapanışın tamamı için üst sınırdır. Heroku,
	// SIGTERM'den 30 saniye sonra süreci zorla öldürür.
	shutdownTimeout = 10 * time.Second

	// noticeWait, kapanırken "sunucu yeniden başlıyor" bildiriminin
	// gönderilmesi için beklenen en uzun süredir.
	noticeWait = 2 * time.Second

	// noticeEvery, bir kullanıcıya "mesajınız gönderilmedi" bildirimi ve
	// günlük satırı için en kısa aralıktır. Art arda mesaj yağdıran bir
	// istemci, sunucuya bildirim ve günlük yağdırtamaz.
	noticeEvery = time.Second
)

// restartNotice, kapanışta herkese gönderilen bildirimdir.
const restartNotice = "Sunucu yeniden başlıyor; birazdan kendiliğinden yeniden bağlanacaksınız."

// maxMessageRate, MESSAGE_RATE için kabul edilen en büyük değerdir.
const maxMessageRate = 1e6

// config, ortam değişkenleriyle değiştirilebilen ayarlardır. Varsayılanlar
// tek bir Heroku Basic dynosuna (512 MB bellek) göre seçildi.
type config struct {
	// port, dinlenecek porttur (PORT); Heroku kendisi verir.
	port string
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
	// gogc ve gomemlimit, Go çalışma zamanının GOGC ve GOMEMLIMIT
	// değişkenleridir. GOGC boşsa Go'nun varsayılanı (100) geçerlidir;
	// GOMEMLIMIT boşsa tuneGC 400 MiB yapar.
	gogc, gomemlimit string
}

// loadConfig, ayarları getenv'den okur (main'de os.Getenv). Programın
// okuduğu her ortam değişkeni buradan geçer. Geçersiz bir değer, sunucu
// hiç başlamadan açık bir hatayla bildirilir.
func loadConfig(getenv func(string) string) (config, error) {
	cfg := config{
		port:           getenv("PORT"),
		allowedOrigins: gosocketio.ParseOrigins(getenv("ALLOWED_ORIGINS")),
		gogc:           getenv("GOGC"),
		gomemlimit:     getenv("GOMEMLIMIT"),
	}
	if cfg.port == "" {
		cfg.port = "3000"
	}
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
		if err != nil || !(r > 0) || r > maxMessageRate {
			errs = append(errs, fmt.Errorf("MESSAGE_RATE=%q: 0'dan büyük, en çok %g bir sayı olmalı (saniyede mesaj)", v, maxMessageRate))
		} else {
			cfg.messageRate = r
		}
	}
	return cfg, errors.Join(errs...)
}

// maxPayloadBytes, bir uzun yoklama gövdesinin ve bir WebSocket mesajının
// en büyük boyutudur. Mesaj sınırını aşan ama bunun altında kalan bir
// mesaj bildirimle reddedilir ve bağlantı açık kalır; bu sınırı aşan
// istek ya da mesaj bağlantıyı kapatır. Böylece kimse sunucuya
// megabaytlarca veri okutamaz. JSON'da bir karakter en çok 6 bayt tutar
// ("\u0000"); üstüne paketin kendisi için pay bırakılır.
func (c config) maxPayloadBytes() int64 {
	return int64(c.maxMessageBytes)*8 + 64*1024
}

// server, HTTP yollarını, Socket.IO sunucusunu ve kullanıcıları tutar.
type server struct {
	*http.ServeMux
	cfg config
	log *slog.Logger
	io  *socketio.Server
	hub *hub

	// shuttingDown, kapanış başlayınca true olur: yeni bağlantı
	// alınmaz, /healthz 503 döndürür.
	shuttingDown atomic.Bool
}

// newServer, sunucunun bütün yollarını ve Socket.IO olaylarını bağlar.
// main ile testler aynı sunucuyu kullanır.
func newServer(cfg config, log *slog.Logger) *server {
	s := &server{
		ServeMux: http.NewServeMux(),
		cfg:      cfg,
		log:      log,
		hub:      newHub(cfg.sendQueue, cfg.maxConnections, log),
	}

	opts := gosocketio.Options{
		AllowedOrigins:  cfg.allowedOrigins,
		PingInterval:    pingInterval,
		PingTimeout:     pingTimeout,
		MaxPayloadBytes: cfg.maxPayloadBytes(),
		Logger:          log,
	}
	s.io = gosocketio.NewServer(opts)

	// Kullanıcıları go-socket.io'nun odaları değil hub tutar. hub.add,
	// sunucu doluysa ya da kapanıyorsa reddeder; o zaman bağlantıya
	// nedenini söyleyip kapatırız. (OnConnect'ten hata döndürmek
	// go-socket.io v1.7.0'da oturumu sızdırır; gosocketio.Refuse'a bakın.)
	s.io.OnConnect("/", func(c socketio.Conn) error {
		u := c.URL()
		now := time.Now()
		cl, err := s.hub.add(c, newRateLimiter(cfg.messageRate, cfg.messageBurst, now), u.Query().Get("nick"))
		if err != nil {
			s.log.Warn("bağlantı reddedildi", "id", c.ID(), "reason", err)
			gosocketio.Refuse(c, "chat notice", "Bağlanamadınız: "+err.Error()+". Biraz sonra tekrar deneyin.")
			return nil
		}
		cl.typingLimiter = newRateLimiter(typingRate, typingBurst, now)
		s.log.Info("bağlandı", "id", c.ID(), "nick", s.hub.nickOf(cl), "transport", transportOf(c), "users", s.hub.count())
		return nil
	})
	// OnDisconnect, kullanıcıyı listeden çıkarır; hub herkese "user left"
	// gönderir.
	s.io.OnDisconnect("/", func(c socketio.Conn, reason string) {
		s.hub.remove(c.ID())
		s.log.Info("ayrıldı", "id", c.ID(), "reason", reason, "users", s.hub.count())
	})
	// Parametre any: go-socket.io, veri işleyicinin türüne uymazsa bütün
	// bağlantıyı kapatır. any her JSON değerini kabul eder; türünü
	// validateMessage denetler.
	s.io.OnEvent("/", "chat message", s.onChatMessage)
	s.io.OnEvent("/", "set nickname", s.onSetNickname)
	s.io.OnEvent("/", "typing", s.onTyping)
	s.io.OnEvent("/", "private message", s.onPrivateMessage)
	s.io.OnError("/", func(c socketio.Conn, err error) {
		id := ""
		if c != nil {
			id = c.ID()
		}
		s.log.Warn("socket.io hatası", "id", id, "error", err)
	})

	// "GET /{$}" yalnızca kök yolla eşleşir; "/baska" gibi yollar 404 alır.
	s.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write(indexHTML)
	})
	s.HandleFunc("GET /healthz", s.serveHealth)
	// Tarayıcı istemcisini kendimiz sunarız; go-socket.io sunmaz.
	s.Handle("GET "+socketioclient.Path, socketioclient.Handler())
	s.Handle("/socket.io/", s.admit(gosocketio.Handler(s.io, opts)))
	return s
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
	s.hub.broadcast("chat message", chatPayload{From: s.hub.nickOf(c), Text: text, At: now.UnixMilli()})
}

// chatPayload, yayınlanan "chat message" olayının verisidir. Önceki
// adımlarda yalnızca metindi; kimin yazdığını söylemek için artık bir
// nesnedir.
type chatPayload struct {
	From string `json:"from"`
	Text string `json:"text"`
	At   int64  `json:"at"` // Unix zamanı, milisaniye
}

// Yazma bildirimlerinin hız sınırı: sayfa tuşlara basıldıkça en çok iki
// saniyede bir bildirim gönderir; sunucu saniyede birine, art arda en çok
// beşine izin verir. Fazlası atılır ve gönderene (saniyede en çok bir kez)
// bildirilir.
const (
	typingRate  = 1
	typingBurst = 5
)

// onTyping, kullanıcının yazmaya başladığını ya da bıraktığını kendisi
// dışındaki herkese bildirir. Yazma bildirimleri hiçbir yerde saklanmaz.
func (s *server) onTyping(conn socketio.Conn, v any) {
	c, ok := s.hub.get(conn.ID())
	if !ok {
		return
	}
	now := time.Now()
	if !c.typingLimiter.allow(now) {
		s.reject(c, now, errRateHigh)
		return
	}
	typing, ok := v.(bool)
	if !ok {
		s.reject(c, now, errNotBool)
		return
	}
	s.hub.typing(c, typing)
}

// privateAck, "private message" olayının onayıdır: {"ok":true} ya da
// {"ok":false,"error":"…"}.
type privateAck struct {
	OK    bool   `json:"ok"`
	Error string `json:"error,omitempty"`
}

// onPrivateMessage, özel mesajı yalnızca alıcıya ve gönderene iletir.
// Sonucu onayda söyler; bu yüzden her yol bir privateAck döndürür.
// Özel mesaj, herkese giden mesajlarla aynı hız sınırından geçer.
func (s *server) onPrivateMessage(conn socketio.Conn, v any) privateAck {
	c, ok := s.hub.get(conn.ID())
	if !ok {
		return privateAck{Error: "bağlantı henüz hazır değil"}
	}
	now := time.Now()
	if !c.limiter.allow(now) {
		return privateAck{Error: errRateHigh.Error()}
	}
	to, text, err := validatePrivate(v, s.cfg.maxMessageBytes)
	if err == nil {
		err = s.hub.sendPrivate(c, to, text, now.UnixMilli())
	}
	if err != nil {
		return privateAck{Error: err.Error()}
	}
	return privateAck{OK: true}
}

// nickAck, "set nickname" olayının onayıdır: {"ok":true,"nick":"…"} ya da
// {"ok":false,"error":"…"}.
type nickAck struct {
	OK    bool   `json:"ok"`
	Nick  string `json:"nick,omitempty"`
	Error string `json:"error,omitempty"`
}

// onSetNickname, kullanıcının takma adını değiştirir. go-socket.io bir
// onayı yalnızca işleyici bir değer döndürünce gönderir; bu yüzden her yol
// bir nickAck döndürür. Ad değiştirmek de bir mesaj sayılır ve hız
// sınırından geçer: kimse herkese ad değiştirme bildirimi yağdıramaz.
func (s *server) onSetNickname(conn socketio.Conn, v any) nickAck {
	c, ok := s.hub.get(conn.ID())
	if !ok {
		return nickAck{Error: "bağlantı henüz hazır değil"}
	}
	if !c.limiter.allow(time.Now()) {
		return nickAck{Error: errRateHigh.Error()}
	}
	nick, err := validateNick(v)
	if err == nil {
		old := s.hub.nickOf(c)
		if err = s.hub.rename(c, nick); err == nil {
			s.log.Info("takma ad değişti", "id", conn.ID(), "from", old, "to", nick)
			return nickAck{OK: true, Nick: nick}
		}
	}
	return nickAck{Error: err.Error()}
}

// reject, reddedilen mesajı yalnızca gönderene bildirir ve günlüğe yazar;
// mesajın içeriğini asla yazmaz. Mesaj yağdıran bir istemci için bildirim
// ve günlük satırı noticeEvery'de bir ile sınırlıdır.
func (s *server) reject(c *client, now time.Time, reason error) {
	if now.Sub(c.lastNotice) < noticeEvery {
		return
	}
	c.lastNotice = now
	s.log.Warn("mesaj reddedildi", "id", c.conn.ID(), "reason", reason)
	c.notify("chat notice", "Mesajınız gönderilmedi: "+reason.Error()+".", s.cfg.sendQueue)
}

// admit, yeni bir bağlantı isteğini (el sıkışma: oturum kimliği yok)
// kütüphaneye ulaşmadan açık bir yanıtla geri çevirir: kapanış sürüyorsa
// ya da sunucu doluysa 503. Aynı anda gelen el sıkışmalar bu denetimden
// birlikte geçebilir; sınırı asıl hub.add korur.
func (s *server) admit(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("sid") == "" {
			if s.shuttingDown.Load() {
				http.Error(w, "Sunucu yeniden başlıyor; birazdan tekrar deneyin.", http.StatusServiceUnavailable)
				return
			}
			if n := s.hub.count(); n >= s.cfg.maxConnections {
				s.log.Warn("bağlantı reddedildi: sunucu dolu", "users", n, "limit", s.cfg.maxConnections)
				http.Error(w, fmt.Sprintf("Sunucu dolu: en çok %d bağlantı. Biraz sonra tekrar deneyin.", s.cfg.maxConnections), http.StatusServiceUnavailable)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// transportOf, bağlantının el sıkışmada kullandığı taşımadır.
func transportOf(c socketio.Conn) string {
	u := c.URL()
	return u.Query().Get("transport")
}

func main() {
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	cfg, err := loadConfig(os.Getenv)
	if err != nil {
		logger.Error("ayarlar geçersiz", "error", err)
		os.Exit(1)
	}
	tuneGC(cfg, logger)

	// Ctrl+C (SIGINT) ya da Heroku'nun SIGTERM'i gelince ctx iptal olur.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	if err := run(ctx, cfg, logger); err != nil {
		logger.Error("sunucu durdu", "error", err)
		os.Exit(1)
	}
}

// tuneGC, Go'nun bellek için hedef üst sınırını 512 MB'lık dynoya göre
// 400 MiB yapar (GOMEMLIMIT verilmişse ona dokunmaz; onu Go'nun çalışma
// zamanı kendisi okur): bellek sınıra yaklaşınca çöp toplayıcı erken
// çalışır. GOGC'ye dokunmayız. Ölçümde Go'nun varsayılanı (100), 1000
// kullanıcılı yükte GOGC=400 kadar düşük gecikme verdi; en yüksek bellek
// ise 77 MB'tan 47 MB'a indi (docs/08-yuk-testi.md).
func tuneGC(cfg config, logger *slog.Logger) {
	if cfg.gomemlimit == "" {
		debug.SetMemoryLimit(400 << 20)
	}
	// SetMemoryLimit'e negatif değer vermek sınırı değiştirmez, okur.
	logger.Info("çöp toplayıcı ayarı", "GOGC", cmp.Or(cfg.gogc, "100"), "GOMEMLIMIT", debug.SetMemoryLimit(-1))
}

// run, sunucuyu cfg.port üzerinde başlatır ve ctx iptal olunca düzgünce
// kapatır.
func run(ctx context.Context, cfg config, logger *slog.Logger) error {
	handler := newServer(cfg, logger)
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       idleTimeout,
	}
	// Socket.IO sunucusu yeni bağlantıları kendi döngüsünde kabul eder.
	// Her dönüş yolunda kapatılır; normal kapanışta HTTP kapandıktan sonra.
	// gosocketio.Close, kurulmakta olan oturumları bekleyerek kapatır.
	go func() { _ = handler.io.Serve() }()
	defer gosocketio.Close(handler.io)

	// Önce portu açıyoruz, sonra "dinliyor" diyoruz: bu satır
	// göründüğünde bağlantılar gerçekten kabul edilir.
	ln, err := net.Listen("tcp", ":"+cfg.port)
	if err != nil {
		return err
	}
	logger.Info("sunucu dinliyor", "addr", fmt.Sprintf("http://localhost:%d", ln.Addr().(*net.TCPAddr).Port),
		"MAX_CONNECTIONS", cfg.maxConnections, "MAX_MESSAGE_BYTES", cfg.maxMessageBytes,
		"MESSAGE_RATE", cfg.messageRate, "MESSAGE_BURST", cfg.messageBurst, "SEND_QUEUE", cfg.sendQueue)

	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()

	select {
	case err := <-serveErr:
		return err
	case <-ctx.Done():
	}

	start := time.Now()
	handler.shuttingDown.Store(true)
	logger.Info("kapanıyor: yeni bağlantı alınmıyor", "users", handler.hub.count())
	// Önce herkese haber verip bağlantıları kapatırız; HTTP sunucusu bu
	// sırada açık kalır ki uzun yoklamadaki kullanıcı bildirimi bir sonraki
	// isteğiyle alabilsin. (Shutdown, WebSocket bağlantılarını zaten
	// kapatmaz.) Yeni bağlantıyı admit ve hub.add reddeder.
	handler.hub.closeAll(restartNotice, noticeWait)
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return err
	}
	if err := <-serveErr; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	logger.Info("sunucu kapandı", "took", time.Since(start).Round(time.Millisecond))
	return nil
}
