// Adım 11: birden çok süreç tek bir sohbet gibi çalışır.
//
// REDIS_URL verilince her süreç, kendi kullanıcılarının olaylarını
// (mesaj, katılma, ayrılma, ad değiştirme, yazıyor, özel mesaj) Redis'in
// yayın kanalına yazar ve diğer süreçlerinkini oradan okur. Mesajların
// kaydı ve kimlikleri yine ortak veritabanındadır. Redis bir mesajı
// kaçırtırsa süreç bunu kimliklerdeki boşluktan anlar ve eksiği
// veritabanından okur: kimse Redis yüzünden mesaj kaçırmaz. REDIS_URL
// yoksa adım 10'daki gibi tek süreç çalışır.
package main

import (
	"cmp"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"slices"
	"strconv"
	"sync"
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
	// databaseURL, PostgreSQL'in adresidir (DATABASE_URL; Heroku Postgres
	// verir). Boşsa mesajlar databasePath'teki SQLite dosyasında durur
	// (DATABASE_PATH).
	databaseURL, databasePath string
	// historyLimit, saklanan en çok mesajdır (HISTORY_LIMIT); eskileri
	// silinir.
	historyLimit int
	// redisURL, süreçleri birbirine bağlayan Redis'in adresidir
	// (REDIS_URL; Heroku Key-Value Store verir). Boşsa tek süreç çalışır.
	redisURL string
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
		databaseURL:    getenv("DATABASE_URL"),
		databasePath:   getenv("DATABASE_PATH"),
		redisURL:       getenv("REDIS_URL"),
	}
	if cfg.port == "" {
		cfg.port = "3000"
	}
	if cfg.databasePath == "" {
		cfg.databasePath = "sohbet.db"
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
	intVar(&cfg.historyLimit, "HISTORY_LIMIT", 10000)
	cfg.messageRate = 5
	if v := getenv("MESSAGE_RATE"); v != "" {
		r, err := strconv.ParseFloat(v, 64)
		if err != nil || !(r > 0) || r > maxMessageRate {
			errs = append(errs, fmt.Errorf("MESSAGE_RATE=%q: 0'dan büyük, en çok %g bir sayı olmalı (saniyede mesaj)", v, maxMessageRate))
		} else {
			cfg.messageRate = r
		}
	}
	if cfg.redisURL != "" {
		if _, err := redisOptions(cfg.redisURL); err != nil {
			errs = append(errs, err)
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

// Geçmişin sınırları.
const (
	// firstVisitHistory, ilk kez gelen bir sayfanın (offset yok) aldığı
	// son mesaj sayısıdır.
	firstVisitHistory = 50
	// maxReplay, uzakta kalan bir sayfaya gönderilen en çok mesajdır;
	// daha çoğunu kaçırdıysa en yeni maxReplay tanesini ve kaçının
	// gösterilmediğini söyleyen bir bildirim alır.
	maxReplay = 500
	// storeTimeout, bir veritabanı işinin en uzun süresidir.
	storeTimeout = 2 * time.Second
	// trimEvery, eski mesajların ne sıklıkla silindiğidir.
	trimEvery = time.Minute
)

// errNotStored, saklanamayan (ve bu yüzden yayınlanmayan) mesajın
// gönderene bildirilen nedenidir.
var errNotStored = errors.New("mesaj saklanamadı, biraz sonra tekrar deneyin")

// server, HTTP yollarını, Socket.IO sunucusunu ve kullanıcıları tutar.
type server struct {
	*http.ServeMux
	cfg   config
	log   *slog.Logger
	io    *socketio.Server
	hub   *hub
	store store
	// cluster, diğer süreçlere Redis'le bağlanır; REDIS_URL yoksa nil.
	cluster *cluster

	// logMu, yayını kimlik sırasına koyar: mesajlar bu süreçte de, Redis'ten
	// de gelse kimlik sırasıyla yayınlanır ve yeni bağlanan biri için "şu
	// ana kadar" (lastID) ile "bundan sonra" arasında bir boşluk kalmaz.
	logMu  sync.Mutex
	lastID int64 // yayınlanan en büyük kimlik; logMu altında
	// pending, sırası henüz gelmemiş mesajlardır (kimliğinden); gapTimer,
	// onları veritabanından tamamlamak için kurulan zamanlayıcıdır.
	pending  map[int64]message
	gapTimer *time.Timer
	// appendMu, bu süreçte aynı anda tek bir mesaj saklatır. Veritabanı
	// eklemeleri zaten sıraya koyar (SQLite'ta tek yazan olur,
	// PostgreSQL'de kilit); sırada bekleyenler burada beklesin, SQLite'ın
	// meşgul beklemesine (busy_timeout) ya da havuzun bağlantılarına
	// yüklenmesin. Ölçüm: docs/08-yuk-testi.md.
	appendMu sync.Mutex

	// shuttingDown, kapanış başlayınca true olur: yeni bağlantı
	// alınmaz, /healthz 503 döndürür.
	shuttingDown atomic.Bool
}

// newServer, sunucunun bütün yollarını ve Socket.IO olaylarını bağlar.
// main ile testler aynı sunucuyu kullanır. st açık bir mesaj kaydıdır.
func newServer(cfg config, log *slog.Logger, st store) (*server, error) {
	s := &server{
		ServeMux: http.NewServeMux(),
		cfg:      cfg,
		log:      log,
		hub:      newHub(cfg.sendQueue, cfg.maxConnections, log),
		store:    st,
		pending:  make(map[int64]message),
	}
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	last, err := st.lastID(ctx)
	if err != nil {
		return nil, fmt.Errorf("mesaj kaydı okunamadı: %w", err)
	}
	s.lastID = last
	if cfg.redisURL != "" {
		if s.cluster, err = newCluster(cfg.redisURL, log); err != nil {
			return nil, err
		}
		s.connectCluster()
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
	//
	// Yeni bağlanan, hub'a logMu altında girer: o andan sonra yayınlanan
	// her mesaj onun kuyruğuna girer, ama yazıcısı bekletilir. O ana kadar
	// yayınlananların (kimliği upto'ya kadar) kaçırdıklarını replay
	// veritabanından getirir ve bekleyenlerin önüne koyar.
	s.io.OnConnect("/", func(c socketio.Conn) error {
		u := c.URL()
		q := u.Query()
		now := time.Now()
		wanted := q.Get("nick")
		if nick, err := validateNick(wanted); err == nil && !s.claim(nick) {
			wanted = "" // ad başka bir süreçte: misafir adı alır
		}
		s.logMu.Lock()
		upto := s.lastID
		cl, err := s.hub.add(c, newRateLimiter(cfg.messageRate, cfg.messageBurst, now), wanted, upto)
		s.logMu.Unlock()
		if err != nil {
			s.log.Warn("bağlantı reddedildi", "id", c.ID(), "reason", err)
			gosocketio.Refuse(c, "chat notice", "Bağlanamadınız: "+err.Error()+". Biraz sonra tekrar deneyin.")
			return nil
		}
		cl.typingLimiter = newRateLimiter(typingRate, typingBurst, now)
		go s.replay(cl, q.Get("offset"), upto)
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
	return s, nil
}

// health, /healthz yanıtıdır. Redis alanı yalnızca REDIS_URL verilince
// vardır.
type health struct {
	Status      string `json:"status"`
	Connections int    `json:"connections"`
	Database    string `json:"database"`
	Redis       string `json:"redis,omitempty"`
	Process     string `json:"process,omitempty"`
}

// serveHealth, platformun ve izleme araçlarının sorduğu durum yanıtıdır.
// Kapanış başladıysa ya da veritabanına ulaşılamıyorsa 503 döndürür.
// Redis'e ulaşılamıyorsa durum "degraded" olur ama kod 200 kalır: süreç
// kendi kullanıcılarına hizmet ediyor, mesajlar saklanıyor; onu
// trafikten çıkarmak kimseye yaramaz (Redis bütün süreçler için aynıdır).
func (s *server) serveHealth(w http.ResponseWriter, r *http.Request) {
	h, code := health{Status: "ok", Connections: s.hub.count(), Database: "ok"}, http.StatusOK
	ctx, cancel := context.WithTimeout(r.Context(), storeTimeout)
	defer cancel()
	if s.cluster != nil {
		h.Redis, h.Process = "ok", s.cluster.id
		if !s.cluster.up.Load() {
			h.Status, h.Redis = "degraded", "unreachable"
		}
	}
	if err := s.store.ping(ctx); err != nil {
		s.log.Warn("veritabanına ulaşılamıyor", "error", err)
		h.Status, h.Database, code = "degraded", "unreachable", http.StatusServiceUnavailable
	}
	if s.shuttingDown.Load() {
		h.Status, code = "shutting down", http.StatusServiceUnavailable
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(h)
}

// Mesajın onayları. Sayfa, onay gelmezse ya da retry true ise aynı
// mesajı aynı istemci kimliğiyle yeniden gönderir; retry false ise mesajı
// gönderilemedi diye gösterir.
type (
	// sent, saklanan ve yayınlanan mesajın onayıdır: {"ok":true,"id":N}.
	sent struct {
		OK bool  `json:"ok"`
		ID int64 `json:"id"`
	}
	// refused, saklanmayan mesajın onayıdır:
	// {"ok":false,"error":"…","retry":false}.
	refused struct {
		OK    bool   `json:"ok"`
		Error string `json:"error"`
		Retry bool   `json:"retry"`
	}
)

// onChatMessage, bir kullanıcının mesajını sınırlardan geçirir, saklar,
// herkese yayınlar ve sonucu onayda döndürür. Bir bağlantının olaylarını
// go-socket.io sırayla, o bağlantının okuma goroutine'inde çağırır.
//
// clientOffset, sayfanın mesaja verdiği kimliktir. Önceki adımların
// istemcileri onu göndermez: onların mesajı bir kez gider ya da kaybolur
// (en çok bir kez), reddedilince de bunu onaydan değil "chat notice"
// bildiriminden öğrenirler.
func (s *server) onChatMessage(conn socketio.Conn, msg, clientOffset any) any {
	c, ok := s.hub.get(conn.ID())
	if !ok {
		return refused{Error: "bağlantı henüz hazır değil", Retry: true}
	}
	now := time.Now()
	legacy := clientOffset == nil
	offset, err := validateOffset(clientOffset)
	if err != nil {
		return s.refuse(c, now, legacy, err, false)
	}
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	// Bu kimlikle bir mesajı zaten sakladıysak bu bir yeniden denemedir:
	// ilk onay yolda kaybolmuş. Aynı onayı yineleriz; mesaj ne yeniden
	// saklanır ne yeniden yayınlanır, hız sınırından da bir şey yemez.
	if offset != "" {
		id, found, err := s.store.lookup(ctx, offset)
		if err != nil {
			s.log.Error("veritabanı okunamadı", "id", conn.ID(), "error", err)
			return s.refuse(c, now, legacy, errNotStored, true)
		}
		if found {
			// Mesajı saklayan süreç onu yayınlayamadan ölmüş olabilir:
			// burada henüz yayınlanmadıysa veritabanından okuruz.
			s.logMu.Lock()
			behind := id > s.lastID
			s.logMu.Unlock()
			if behind {
				go s.catchUp()
			}
			return sent{OK: true, ID: id}
		}
	}
	if !c.limiter.allow(now) {
		return s.refuse(c, now, legacy, errRateHigh, false)
	}
	text, err := validateMessage(msg, s.cfg.maxMessageBytes)
	if err != nil {
		return s.refuse(c, now, legacy, err, false)
	}
	id, err := s.publish(ctx, message{From: s.hub.nickOf(c), Text: text, At: now.UnixMilli(), ClientOffset: offset})
	if err != nil {
		s.log.Error("mesaj saklanamadı; yayınlanmadı", "id", conn.ID(), "error", err)
		return s.refuse(c, now, legacy, errNotStored, true)
	}
	return sent{OK: true, ID: id}
}

// refuse, saklanmayan mesajın onayını döndürür. legacy, istemci
// kimliği göndermeyen (önceki adımların) istemcisidir; ona neden ayrıca
// "chat notice" ile de bildirilir.
func (s *server) refuse(c *client, now time.Time, legacy bool, reason error, retry bool) refused {
	if legacy {
		s.reject(c, now, reason)
	}
	return refused{Error: reason.Error(), Retry: retry}
}

// publish, mesajı saklar ve ancak saklanınca, aldığı kimlikle bu
// süreçteki herkese ve Redis'le diğer süreçlere yayınlar. Saklanamayan
// mesaj yayınlanmaz: yayınlanan her mesaj geçmişte de vardır. Aynı
// istemci kimliğiyle saklanmış bir mesaj varsa (aynı mesajın iki denemesi
// aynı anda geldiyse) ikincisi yayınlanmaz; ikisi de aynı kimliği alır.
func (s *server) publish(ctx context.Context, m message) (int64, error) {
	s.appendMu.Lock()
	id, stored, err := s.store.append(ctx, m)
	s.appendMu.Unlock()
	if err != nil || !stored {
		return id, err
	}
	m.ID = id
	s.deliver(m)
	if s.cluster != nil {
		s.cluster.send(envelope{Kind: kindChat, Message: &m})
	}
	return id, nil
}

// deliver, mesajları kimlik sırasıyla yayınlar. Veritabanı kimlikleri
// kayıt sırasıyla verir (store.append); ama iki süreçten gelen mesajlar
// Redis'ten ters sırayla gelebilir, Redis birini kaçırtabilir. Sırası
// gelmeyen mesaj pending'de bekler. Boşluk gapWait içinde kapanmazsa
// eksik kimlikler veritabanından okunur (catchUp).
func (s *server) deliver(msgs ...message) {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	for _, m := range msgs {
		if m.ID > s.lastID {
			s.pending[m.ID] = m
		}
	}
	s.drain()
}

// drain, sırası gelen mesajları yayınlar; logMu tutulurken çağrılır.
func (s *server) drain() {
	for {
		m, ok := s.pending[s.lastID+1]
		if !ok {
			break
		}
		delete(s.pending, m.ID)
		s.lastID = m.ID
		s.hub.broadcast("chat message", m)
	}
	switch {
	case len(s.pending) == 0 && s.gapTimer != nil:
		s.gapTimer.Stop()
		s.gapTimer = nil
	case len(s.pending) > 0 && s.gapTimer == nil:
		s.gapTimer = time.AfterFunc(gapWait, s.catchUp)
	}
}

// catchUp, lastID'den sonra saklanmış bütün mesajları veritabanından
// okur ve yayınlar. Okuduklarımızın en büyüğü hi ise hi'ye kadar
// saklanmış her mesaj artık elimizdedir: veritabanı kimlikleri kayıt
// sırasıyla verdiği için, hi kaydedildiğinde ondan küçük kimliklerin
// işi bitmişti. Aradaki eksik kimlikler hiç saklanmamıştır (başarısız ya
// da çakışan bir INSERT de bir kimlik harcar); onları atlarız.
//
// Okumadan önce bekleyen bir mesaj, Redis'e saklandıktan sonra
// yazılmıştır; okuduğumuzda veritabanında olmalıdır. hi'den büyükse
// veritabanı onu tanımıyor demektir (kanala süreçlerimizden başka biri
// yazmış): onu atarız, yoksa sırası hiç gelmez.
func (s *server) catchUp() {
	s.logMu.Lock()
	s.gapTimer = nil
	after := s.lastID
	waiting := slices.Collect(maps.Keys(s.pending))
	s.logMu.Unlock()

	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	msgs, skipped, err := s.store.replay(ctx, after, math.MaxInt64, maxReplay)
	if err != nil {
		s.log.Error("kaçırılan mesajlar veritabanından okunamadı", "after", after, "error", err)
		s.logMu.Lock()
		if len(s.pending) > 0 && s.gapTimer == nil {
			s.gapTimer = time.AfterFunc(retryEvery, s.catchUp)
		}
		s.logMu.Unlock()
		return
	}
	s.logMu.Lock()
	defer s.logMu.Unlock()
	if skipped > 0 && s.lastID == after {
		s.log.Warn("çok mesaj kaçırıldı; yalnızca en yenileri yayınlanıyor", "skipped", skipped)
		s.hub.broadcast("chat notice", fmt.Sprintf(
			"Bağlantı sorunu yüzünden %d eski mesaj gösterilemedi.", skipped))
		s.lastID = max(s.lastID, msgs[0].ID-1)
	}
	for _, m := range msgs {
		if m.ID > s.lastID {
			s.pending[m.ID] = m
		}
	}
	hi := after
	if len(msgs) > 0 {
		hi = msgs[len(msgs)-1].ID
	}
	for s.lastID < hi {
		if m, ok := s.pending[s.lastID+1]; ok {
			delete(s.pending, m.ID)
			s.hub.broadcast("chat message", m)
		}
		s.lastID++
	}
	for _, id := range waiting {
		if _, ok := s.pending[id]; ok && id > hi {
			delete(s.pending, id)
			s.log.Warn("veritabanında olmayan bir mesaj kimliği Redis'ten geldi; atıldı", "id", id)
		}
	}
	s.drain()
}

// replay, yeni bağlanana kaçırdığı mesajları sırayla gönderir ve sonra
// bekletilen canlı mesajları serbest bırakır. offset, sayfanın gösterdiği
// en büyük kimliktir. Yoksa (ilk geliş) ya da sunucunun bildiğinden
// büyükse (geçmiş silinmiş) son firstVisitHistory mesaj gider; çok geride
// kaldıysa en yeni maxReplay tanesi ve bir bildirim.
func (s *server) replay(c *client, offset string, upto int64) {
	after, err := strconv.ParseInt(offset, 10, 64)
	limit := maxReplay
	if err != nil || after < 0 || after > upto {
		after, limit = 0, firstVisitHistory
	}
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	msgs, skipped, err := s.store.replay(ctx, after, upto, limit)
	var prefix []outgoing
	switch {
	case err != nil:
		s.log.Error("geçmiş okunamadı", "id", c.conn.ID(), "error", err)
		prefix = append(prefix, outgoing{"chat notice", "Geçmiş mesajlar şu an yüklenemedi."})
	case skipped > 0 && limit == maxReplay:
		prefix = append(prefix, outgoing{"chat notice", fmt.Sprintf(
			"Siz yokken %d mesaj yazıldı; yalnızca son %d tanesi gösteriliyor.", skipped+len(msgs), len(msgs))})
	}
	for _, m := range msgs {
		prefix = append(prefix, outgoing{"chat message", m})
	}
	s.hub.release(c, prefix)
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
	if err == nil && nickKey(nick) != nickKey(s.hub.nickOf(c)) && !s.claim(nick) {
		err = errNickTaken
	}
	if err == nil {
		old := s.hub.nickOf(c)
		if err = s.hub.rename(c, nick); err == nil {
			s.log.Info("takma ad değişti", "id", conn.ID(), "from", old, "to", nick)
			return nickAck{OK: true, Nick: nick}
		}
	}
	return nickAck{Error: err.Error()}
}

// connectCluster, kümenin işlevlerini sunucuya bağlar: Redis'ten gelen
// zarflar hub'a ya da (sohbet mesajları) deliver'a gider; hub'ın olayları
// Redis'e.
func (s *server) connectCluster() {
	c := s.cluster
	s.hub.share = c.send
	c.receive = func(e envelope) {
		if e.Kind == kindChat {
			if e.Message != nil {
				s.deliver(*e.Message)
			}
			return
		}
		s.hub.fromPeer(e, time.Now())
	}
	c.catchUp = s.catchUp
	c.holds = s.hub.holds
	c.heartbeat = func() {
		s.hub.heartbeat()
		if c.up.Load() {
			s.hub.forgetSilentPeers(time.Now().Add(-presenceTTL))
		}
	}
	c.reconnect = func() {
		s.hub.trustPeers(time.Now())
		s.hub.heartbeat()
	}
}

// claim, takma adı kümenin bütünü için ayırmayı dener; tek süreçte her
// zaman true döndürür (adı yalnızca hub denetler).
func (s *server) claim(nick string) bool {
	return s.cluster == nil || s.cluster.claim(nick)
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

// storeName, günlükte hangi veritabanının kullanıldığını söyler; parolayı
// içeren adresi değil.
func storeName(cfg config) string {
	if cfg.databaseURL != "" {
		return "postgres"
	}
	return "sqlite:" + cfg.databasePath
}

// redisName, günlükte Redis'in kullanılıp kullanılmadığını söyler;
// parolayı içeren adresi değil.
func redisName(cfg config) string {
	if cfg.redisURL == "" {
		return "yok (tek süreç)"
	}
	return "var"
}

// trimHistory, dakikada bir en yeni historyLimit mesaj dışındakileri
// siler; ctx bitince durur. Silme, mesajların saklanmasını ve yayınını
// beklemez: logMu'yu tutmaz.
func (s *server) trimHistory(ctx context.Context) {
	tick := time.NewTicker(trimEvery)
	defer tick.Stop()
	for {
		s.trimOnce(ctx)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// trimOnce, fazla mesajları bir kez siler.
func (s *server) trimOnce(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	n, err := s.store.trim(ctx, s.cfg.historyLimit)
	switch {
	case err != nil && ctx.Err() == nil:
		s.log.Warn("eski mesajlar silinemedi", "error", err)
	case n > 0:
		s.log.Info("eski mesajlar silindi", "deleted", n, "limit", s.cfg.historyLimit)
	}
}

// run, sunucuyu cfg.port üzerinde başlatır ve ctx iptal olunca düzgünce
// kapatır.
func run(ctx context.Context, cfg config, logger *slog.Logger) error {
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.close()
	handler, err := newServer(cfg, logger, st)
	if err != nil {
		return err
	}
	go handler.trimHistory(ctx)
	if handler.cluster != nil {
		clusterCtx, stopCluster := context.WithCancel(context.Background())
		done := handler.cluster.run(clusterCtx)
		// Kapanışta kullanıcıların "ayrıldı" olayları da diğer süreçlere
		// gitsin diye küme en son durur.
		defer func() { stopCluster(); <-done }()
	}
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
		"MESSAGE_RATE", cfg.messageRate, "MESSAGE_BURST", cfg.messageBurst, "SEND_QUEUE", cfg.sendQueue,
		"HISTORY_LIMIT", cfg.historyLimit, "database", storeName(cfg), "last_id", handler.lastID,
		"redis", redisName(cfg))

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
