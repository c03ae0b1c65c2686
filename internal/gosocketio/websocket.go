package gosocketio

// Bu dosya, go-socket.io'nun WebSocket taşımasının yerine geçen taşımadır.
// Kütüphanenin kendi taşımasından farkları:
//
//   - Okuma sınırı: kütüphane gorilla'nın SetReadLimit'ini hiç çağırmaz;
//     tek bir 100 MB'lık çerçeve, reddedilmeden önce belleğe okunurdu.
//     Burada sınırı aşan çerçeve, başlığı okunur okunmaz reddedilir ve
//     bağlantı kapanır.
//   - Küçük okuma ara belleği ve havuzdan yazma ara belleği: boşta
//     bekleyen bir bağlantı yazma belleği tutmaz.
//   - Kütüphane her okunan ve yazılan çerçeve için bir zamanlayıcı ve bir
//     goroutine başlatıyordu ("Did you forget to Close()" uyarısı için);
//     burada yok.
//   - HTTP işleyicisi bağlantı kurulunca döner; kütüphanede bağlantı
//     kapanana kadar bekliyordu, bağlantı başına bir goroutine daha
//     tutuyordu. Kurulmakta olan oturumları Close bekler.

import (
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/googollee/go-socket.io/engineio/frame"
	"github.com/googollee/go-socket.io/engineio/packet"
	"github.com/googollee/go-socket.io/engineio/transport"
	"github.com/gorilla/websocket"
)

// errBadFrame, Engine.IO paketi olmayan bir WebSocket çerçevesidir.
var errBadFrame = errors.New("geçersiz Engine.IO çerçevesi")

// writeBuffers, bütün WebSocket bağlantılarının paylaştığı yazma ara
// belleği havuzudur: bir bağlantı ara belleği yalnızca yazarken tutar.
var writeBuffers sync.Pool

// websocketTransport, WebSocket bağlantılarını kabul eder.
type websocketTransport struct {
	log       *slog.Logger
	readLimit int64
	upgrader  websocket.Upgrader
	// polling, yükseltmede yerine geçilen uzun yoklama bağlantısını bulmak
	// içindir.
	polling *pollingTransport
	// setups, go-socket.io'nun kurmakta olduğu WebSocket oturumlarıdır
	// (bkz. Close).
	setups sync.WaitGroup
}

func newWebsocketTransport(log *slog.Logger, readLimit int64, checkOrigin func(*http.Request) bool, polling *pollingTransport) *websocketTransport {
	return &websocketTransport{
		log:       log,
		readLimit: readLimit,
		polling:   polling,
		upgrader: websocket.Upgrader{
			ReadBufferSize:  512,
			WriteBufferSize: 1024,
			WriteBufferPool: &writeBuffers,
			CheckOrigin:     checkOrigin,
		},
	}
}

func (t *websocketTransport) Name() string { return "websocket" }

func (t *websocketTransport) Dial(*url.URL, http.Header) (transport.Conn, error) {
	return nil, errNoDial
}

// Accept, isteği WebSocket'e yükseltir. İstekte oturum kimliği varsa bu
// bir yükseltmedir: uzun yoklama bağlantısına halefi bildirilir.
func (t *websocketTransport) Accept(w http.ResponseWriter, r *http.Request) (transport.Conn, error) {
	sid := r.URL.Query().Get("sid")
	if sid == "" {
		// Yeni bir oturum: istek HTTP sunucusundan kopmadan (Upgrade)
		// önce sayılır; markReady bitirir, Close bekler.
		t.setups.Add(1)
	}
	ws, err := t.upgrader.Upgrade(w, r, w.Header())
	if err != nil {
		if sid == "" {
			t.setups.Done()
		}
		return nil, err
	}
	ws.SetReadLimit(t.readLimit)
	c := &wsConn{t: t, ws: ws, url: *r.URL, header: r.Header, ready: make(chan struct{})}
	if sid != "" {
		c.markReady() // bir yükseltme: oturum zaten kurulu
		if pc, ok := t.polling.conns.Load(sid); ok {
			pc.(*pollingConn).handOver(c)
		}
	}
	return c, nil
}

// wsConn, bir istemcinin WebSocket bağlantısıdır: her çerçeve bir
// Engine.IO paketidir.
type wsConn struct {
	t      *websocketTransport
	ws     *websocket.Conn
	url    url.URL
	header http.Header

	// wmu, yazmaları sıraya koyar: gorilla aynı anda tek yazana izin verir.
	wmu sync.Mutex

	// ready, go-socket.io oturumu kurup ilk mesajını (Socket.IO'nun
	// bağlantı paketi) yazınca ya da bağlantı kapanınca kapanır.
	ready     chan struct{}
	readyOnce sync.Once

	// before, bir yükseltmede yerini bu bağlantıya bırakan uzun yoklama
	// bağlantısının kapanışıdır (pollingConn.closed): onun kuyruğunda
	// kalanlar bu bağlantıya yazılınca kapanır. Yükseltmeden sonraki
	// mesajlar onu bekler; yoksa go-socket.io'nun yeni bağlantıya yazdığı
	// bir mesaj, eski kuyruktakilerin önüne geçebilir. Yükseltme değilse
	// nil'dir.
	before <-chan struct{}
}

func (c *wsConn) markReady() {
	c.readyOnce.Do(func() {
		close(c.ready)
		if !c.upgrade() {
			c.t.setups.Done()
		}
	})
}

// upgrade, bağlantının bir yükseltme olduğunu (oturum kimliğiyle geldiğini)
// söyler.
func (c *wsConn) upgrade() bool { return c.url.Query().Get("sid") != "" }

// NextReader, bir sonraki çerçeveyi okur.
func (c *wsConn) NextReader() (frame.Type, packet.Type, io.ReadCloser, error) {
	mt, r, err := c.ws.NextReader()
	if err != nil {
		if errors.Is(err, websocket.ErrReadLimit) {
			c.t.log.Warn("bağlantı kapatıldı: WebSocket mesajı sınırı aşıyor", "limit", c.t.readLimit, "remote", c.RemoteAddr())
		}
		return 0, 0, nil, err
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return 0, 0, nil, err
	}
	if len(data) == 0 {
		return 0, 0, nil, errBadFrame
	}
	switch {
	case mt == websocket.TextMessage && isPacketType(data[0]):
		return frame.String, packet.ByteToPacketType(data[0], frame.String), newFrameReader(data[1:]), nil
	case mt == websocket.BinaryMessage && data[0] <= 6:
		return frame.Binary, packet.Type(data[0]), newFrameReader(data[1:]), nil
	}
	return 0, 0, nil, errBadFrame
}

// NextWriter, bir paket yazıcısı döndürür; paket, yazıcı kapatılınca tek
// bir çerçeve olarak gönderilir.
func (c *wsConn) NextWriter(ft frame.Type, pt packet.Type) (io.WriteCloser, error) {
	return newFrameWriter(c, ft, pt), nil
}

// commit, kapatılan yazıcının paketini (tür baytı ve veri) tek çerçevede
// gönderir.
func (c *wsConn) commit(w *frameWriter) error {
	// Yoklamanın pongu yükseltme sırasında (sınamaya yanıt) gider;
	// onun dışında her paket, eski bağlantının kalanlarını bekler.
	if c.before != nil && w.pt != packet.PONG {
		<-c.before
	}
	c.wmu.Lock()
	err := c.write(w.ft, w.Bytes())
	c.wmu.Unlock()
	if w.pt == packet.MESSAGE {
		c.markReady()
	}
	return err
}

// writePackets, yükseltmede uzun yoklamanın kuyruğunda kalanları sırayla
// gönderir.
func (c *wsConn) writePackets(packets []eioPacket) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	for _, p := range packets {
		typ := p.pt.StringByte()
		if p.ft == frame.Binary {
			typ = p.pt.BinaryByte()
		}
		if c.write(p.ft, append([]byte{typ}, p.data...)) != nil {
			return
		}
	}
}

// write, bir çerçeve yazar; wmu tutulurken çağrılır. Yazma hatası
// bağlantıyı kapatır: okuyucu da hata alır ve go-socket.io oturumu bitirir.
func (c *wsConn) write(ft frame.Type, b []byte) error {
	mt := websocket.TextMessage
	if ft == frame.Binary {
		mt = websocket.BinaryMessage
	}
	err := c.ws.WriteMessage(mt, b)
	if err != nil {
		_ = c.ws.Close()
	}
	return err
}

// Close, önce bir kapanış çerçevesi gönderir (en çok closeFrameWait
// bekleyerek), sonra TCP bağlantısını kapatır. Doğrudan kapatmak, istemcinin
// henüz okunmamış verisi varsa TCP'nin RST göndermesine ve son yazılanların
// yolda kaybolmasına yol açabilir.
func (c *wsConn) Close() error {
	c.markReady()
	_ = c.ws.WriteControl(websocket.CloseMessage,
		websocket.FormatCloseMessage(websocket.CloseGoingAway, ""), time.Now().Add(closeFrameWait))
	return c.ws.Close()
}

// closeFrameWait, kapanış çerçevesinin yazılması için en uzun süredir.
const closeFrameWait = time.Second

func (c *wsConn) URL() url.URL              { return c.url }
func (c *wsConn) LocalAddr() net.Addr       { return c.ws.LocalAddr() }
func (c *wsConn) RemoteAddr() net.Addr      { return c.ws.RemoteAddr() }
func (c *wsConn) RemoteHeader() http.Header { return c.header }

func (c *wsConn) SetReadDeadline(t time.Time) error { return c.ws.SetReadDeadline(t) }

// SetWriteDeadline, sonraki yazmaların süre sınırıdır. gorilla, süreyi
// yazma sırasında okur; bu yüzden yazmalarla aynı kilidi tutar.
func (c *wsConn) SetWriteDeadline(t time.Time) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.ws.SetWriteDeadline(t)
}
