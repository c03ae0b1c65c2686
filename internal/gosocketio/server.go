// Package gosocketio, kursun adımlarının kullandığı go-socket.io v1.7.0
// sunucusunu güvenli ayarlarla kurar ve kütüphanenin hatalarının
// çevresinden dolaşır. Adımlar onu bir kütüphane gibi içe aktarır; her
// adımın kendi dosyaları yalnızca o adımın dersini gösterir.
//
// Bütün yüzü birkaç fonksiyondur:
//
//   - NewServer, güvenli seçeneklerle bir *socketio.Server döndürür:
//     rastgele oturum kimlikleri, iki taşımada da köken denetimi ve
//     kütüphanenin taşımalarının yerine bu paketin uzun yoklama
//     (polling.go) ve WebSocket (websocket.go) taşımaları. Taşımalar,
//     istemcinin istemediği onayları göndermez (frames.go).
//   - Handler, sunucunun önüne konan HTTP katmanıdır: EIO=3 olmayan
//     istemcileri (socket.io-client 3.x ve 4.x) açık bir açıklamayla,
//     izin verilmeyen kökenleri 403 ile reddeder, istek gövdesini sınırlar.
//   - Close, sunucuyu kütüphanenin çökmesine yol açmadan kapatır; Refuse,
//     OnConnect'te bir bağlantıyı nedenini söyleyerek geri çevirir.
//
// Her hatanın ne olduğu, kütüphanenin kendi deposunda nerede düzeltildiği
// ve burada nasıl aşıldığı docs/06-surum-uyumlulugu.md sayfasındadır.
package gosocketio

import (
	"crypto/rand"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	socketio "github.com/googollee/go-socket.io"
	"github.com/googollee/go-socket.io/engineio"
	"github.com/googollee/go-socket.io/engineio/transport"
	"github.com/gorilla/websocket"

	"sohbet/third_party/socketioclient"
)

// DefaultMaxPayload, Options.MaxPayloadBytes verilmediğinde bir uzun
// yoklama gövdesinin ve bir WebSocket mesajının en büyük boyutudur.
const DefaultMaxPayload = 1 << 20

// Options, sunucunun ayarlarıdır. Sıfır değerli alanlar varsayılanı
// kullanır.
type Options struct {
	// AllowedOrigins, sayfanın kendi kökeni dışında bağlanmasına izin
	// verilen kökenlerdir (örneğin "https://ornek.com"); ParseOrigins'ten
	// gelir.
	AllowedOrigins []string
	// PingInterval ve PingTimeout, Engine.IO'nun canlılık ayarlarıdır;
	// sıfırsa go-socket.io'nun varsayılanları (20 ve 60 saniye) geçerlidir.
	PingInterval time.Duration
	PingTimeout  time.Duration
	// MaxPayloadBytes, bir uzun yoklama POST gövdesinin ve bir WebSocket
	// mesajının en büyük boyutudur; aşan bağlantı kapatılır. Bir
	// bağlantının gönderilmeyi bekleyen paketleri de bu kadarla sınırlıdır.
	// Sıfırsa DefaultMaxPayload.
	MaxPayloadBytes int64
	// Logger, reddedilen bağlantıların günlüğüdür; nil ise slog.Default().
	Logger *slog.Logger
}

func (o Options) maxPayload() int64 {
	if o.MaxPayloadBytes > 0 {
		return o.MaxPayloadBytes
	}
	return DefaultMaxPayload
}

func (o Options) logger() *slog.Logger {
	if o.Logger != nil {
		return o.Logger
	}
	return slog.Default()
}

// NewServer, güvenli seçeneklerle bir go-socket.io sunucusu döndürür. Onu
// HTTP'ye doğrudan değil, Handler'la bağlayın.
func NewServer(opts Options) *socketio.Server {
	log := opts.logger()
	allowed := originSet(opts.AllowedOrigins)
	checkOrigin := func(r *http.Request) bool { return originAllowed(r, allowed) }
	polling := &pollingTransport{log: log, maxQueue: int(opts.maxPayload())}
	ws := newWebsocketTransport(log, opts.maxPayload(), checkOrigin, polling)
	srv := socketio.NewServer(&engineio.Options{
		PingInterval: opts.PingInterval,
		PingTimeout:  opts.PingTimeout,
		Transports:   []transport.Transport{polling, ws},
		// Kütüphanenin varsayılan oturum kimlikleri 1, 2, 3 diye gider ve
		// tahmin edilebilir; başkasının oturumuna istek göndermek kolaylaşır.
		SessionIDGenerator: randomID{},
	})
	websockets.Store(srv, ws)
	return srv
}

// websockets, NewServer'ın kurduğu her sunucunun WebSocket taşımasıdır
// (Close için).
var websockets sync.Map

// Close, srv'yi kapatır: yeni bağlantıları kabul eden döngüsü (Serve)
// biter. srv.Close'u doğrudan çağırmayın. go-socket.io bir oturumu ayrı
// bir goroutine'de kurar ve sonunda kabul kanalına gönderir; kanal o
// sırada kapanmışsa süreç çöker. http.Server.Shutdown, WebSocket'e
// yükseltilmiş isteklerin işleyicisini beklemez; bu yüzden Close, önce
// kurulmakta olan WebSocket oturumlarını (en çok birkaç saniye) bekler.
// Uzun yoklamada el sıkışma isteği oturum kurulana kadar sürdüğü için
// Shutdown onu zaten bekler. HTTP sunucusu kapandıktan sonra çağırın.
func Close(srv *socketio.Server) error {
	if ws, ok := websockets.LoadAndDelete(srv); ok {
		done := make(chan struct{})
		go func() {
			ws.(*websocketTransport).setups.Wait()
			close(done)
		}()
		t := time.NewTimer(handshakeWait)
		defer t.Stop()
		select {
		case <-done:
		case <-t.C:
		}
	}
	return srv.Close()
}

// FlushEvent, hiçbir istemcinin dinlemediği bir olaydır. go-socket.io'nun
// Emit'i paketi yazmadan, bağlantının yazıcısı paketi alınca döner; hemen
// ardından gelen Close, paketi yolda bırakabilir. Yazıcı paketleri sırayla
// yazdığı için Emit(FlushEvent)'in dönmesi, öncekilerin yazıldığını
// gösterir.
const FlushEvent = "flush"

// Refuse, OnConnect içinde bir bağlantıyı geri çevirir: istemciye event
// olayını args ile gönderir ve bağlantıyı kapatır; beklemez. OnConnect
// ardından nil döndürmelidir. go-socket.io v1.7.0'da OnConnect'ten hata
// döndürmek bağlantıyı kapatır ama oturumu kütüphanenin listesinden hiç
// silmez (bellek sızar) ve istemciye bir neden de söylemez.
func Refuse(c socketio.Conn, event string, args ...any) {
	go func() {
		c.Emit(event, args...)
		c.Emit(FlushEvent)
		_ = c.Close()
	}()
}

// eioRefusal, eski protokolü konuşan bu sunucuya yeni bir istemci (3.x ya
// da 4.x) bağlanmaya çalıştığında gönderilen açıklamadır.
const eioRefusal = "Bu sunucu Engine.IO 3 protokolünü konuşur: socket.io-client 2.x " +
	"(sayfadaki /socket.io/socket.io.js, sürüm " + socketioclient.Version + ") kullanın; " +
	"3.x ve 4.x istemcileri bağlanamaz.\n" +
	"This server speaks Engine.IO 3: use socket.io-client 2.x, not 3.x or 4.x.\n"

// Handler, srv'nin önüne konan HTTP katmanıdır. İsteği kütüphaneye
// ulaşmadan denetler: protokol sürümü, JSONP, köken ve gövde boyutu.
// go-socket.io'da köken denetimi (CheckOrigin) uzun yoklamada isteği
// reddetmez, yalnızca CORS başlıklarını belirler; bu yüzden burada, iki
// taşıma için de yapılır. opts, NewServer'a verilenle aynı olmalıdır.
func Handler(srv *socketio.Server, opts Options) http.Handler {
	return guard(srv, opts)
}

// guard, Handler'ın denetimleridir; next, denetimden geçen istekleri alır.
func guard(next http.Handler, opts Options) http.Handler {
	log := opts.logger()
	allowed := originSet(opts.AllowedOrigins)
	limit := opts.maxPayload()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if eio := q.Get("EIO"); eio != "3" {
			log.Warn("bağlantı reddedildi: desteklenmeyen protokol", "eio", eio)
			http.Error(w, eioRefusal, http.StatusBadRequest)
			return
		}
		if q.Get("j") != "" {
			log.Warn("bağlantı reddedildi: JSONP desteklenmiyor")
			http.Error(w, "JSONP ile uzun yoklama desteklenmiyor.", http.StatusBadRequest)
			return
		}
		if origin := r.Header.Get("Origin"); origin != "" {
			if !originAllowed(r, allowed) {
				log.Warn("bağlantı reddedildi: izin verilmeyen köken", "origin", origin)
				http.Error(w, "Bu kökene izin verilmiyor: "+origin, http.StatusForbidden)
				return
			}
			// İzin verilen başka bir kökendeki sayfa, uzun yoklama
			// yanıtlarını okuyabilsin (CORS).
			w.Header().Set("Access-Control-Allow-Origin", origin)
			w.Header().Set("Access-Control-Allow-Credentials", "true")
			w.Header().Add("Vary", "Origin")
		}
		switch {
		case r.Method == http.MethodOptions:
			w.Header().Set("Access-Control-Allow-Methods", "GET, POST")
			w.Header().Set("Access-Control-Allow-Headers", "Content-Type")
			w.WriteHeader(http.StatusNoContent)
			return
		case q.Get("transport") == "websocket" && !websocket.IsWebSocketUpgrade(r):
			http.Error(w, "WebSocket yükseltmesi bekleniyordu.", http.StatusBadRequest)
			return
		case r.Method == http.MethodPost:
			r.Body = http.MaxBytesReader(w, r.Body, limit)
		}
		next.ServeHTTP(w, r)
	})
}

// ParseOrigins, "https://a.com, https://b.com" biçimindeki listeyi
// (ALLOWED_ORIGINS) karşılaştırılabilir kökenlere ayırır.
func ParseOrigins(list string) []string {
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

func originSet(origins []string) map[string]bool {
	set := make(map[string]bool, len(origins))
	for _, o := range origins {
		set[normalizeOrigin(o)] = true
	}
	return set
}

// originAllowed, isteğin Origin başlığı sunucunun kendi adresiyse ya da
// izin listesindeyse true döndürür. Origin başlığı olmayan istekler
// tarayıcıdan gelmez (örneğin terminal istemcisi); onlara izin verilir.
// Denetimi her isteğe true döndüren bir fonksiyonla kapatmak, her siteye
// kullanıcının çerezleriyle bağlanma izni vermek olur.
func originAllowed(r *http.Request, allowed map[string]bool) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil {
		return false
	}
	return strings.EqualFold(u.Host, r.Host) || allowed[normalizeOrigin(origin)]
}

// randomID, tahmin edilemeyen oturum kimlikleri üretir (en az 128 bit).
type randomID struct{}

func (randomID) NewID() string { return rand.Text() }
