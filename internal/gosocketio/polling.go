package gosocketio

// Bu dosya, go-socket.io'nun uzun yoklama (polling) taşımasının yerine
// geçen taşımadır. Kütüphanenin kendi taşımasından farkları:
//
//   - Birikenlerin hepsi tek yanıtta: bekleyen GET, kuyrukta ne varsa
//     hepsini bir gövdede götürür. Kütüphane her yanıtta tek paket
//     gönderiyordu; saniyede birkaç mesajdan sonra istemci geride kalırdı.
//   - Uzunluklar UTF-16 birimidir (payload.go).
//   - Yükseltme güvenlidir: kütüphane eski bağlantıyı kapatınca, o anda
//     bekleyen okuyucu ya da yazıcı hata alıp yeni WebSocket'i de
//     kapatıyordu. Burada duraklatılmışken kapanan bağlantı "yerini
//     devretti" sayılır: bekleyenler bir kez "yeniden dene" yanıtı alır ve
//     kütüphane yeni bağlantıya geçer; kuyrukta kalan paketler de WebSocket'e
//     aktarılır. Duraklatılmışken gelen POST reddedilmez, okunur.
//   - Yanıta yalnızca işleyici yazar: başka goroutine'den, işleyici
//     döndükten sonra yazma olmaz.
//   - Kapanış nazik: kuyrukta kalanlar son GET'le, bir kapanış paketinin
//     önünde gider; istemci bekleyen GET'ini keserse (sekme kapandı)
//     oturum hemen biter.
//   - El sıkışma yanıtı, açılış paketinin yanında Socket.IO'nun bağlantı
//     paketini ("40") de bekler. Kütüphane oturumu açılış paketini yazdıktan
//     sonra kaydeder; "40" yazıldığında kayıt bitmiştir. Böylece istemcinin
//     sonraki isteği "invalid sid" almaz.

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/googollee/go-socket.io/engineio/frame"
	"github.com/googollee/go-socket.io/engineio/packet"
	"github.com/googollee/go-socket.io/engineio/transport"
)

// handshakeWait, el sıkışma yanıtının Socket.IO bağlantı paketini en çok
// ne kadar bekleyeceğidir. Normalde mikro saniyeler sürer.
const handshakeWait = 2 * time.Second

// closeWait, kapanan bir bağlantının kuyruğundakileri istemcinin bir
// sonraki GET'ine vermek için en çok ne kadar bekleyeceğidir.
const closeWait = 2 * time.Second

// Taşımanın hataları.
var (
	errClosed       = errors.New("uzun yoklama bağlantısı kapandı")
	errReadTimeout  = errors.New("uzun yoklama: istemciden zamanında paket gelmedi")
	errWriteTimeout = errors.New("uzun yoklama: istemci zamanında yoklamadı")
	errNoDial       = errors.New("bu taşıma yalnızca sunucu olarak çalışır")
)

// errSuperseded, yerini WebSocket'e devretmiş bağlantının bekleyenlerine
// verilen geçici hatadır. go-socket.io geçici hatada (Temporary() true)
// işlemi oturumun o anki bağlantısıyla, yani yeni WebSocket'le yeniden
// dener.
type errSuperseded struct{}

func (errSuperseded) Error() string   { return "uzun yoklama yerini WebSocket'e bıraktı" }
func (errSuperseded) Temporary() bool { return true }

// pollingTransport, uzun yoklama bağlantılarını kabul eder.
type pollingTransport struct {
	log *slog.Logger
	// maxQueue, bir bağlantının kuyruğunda bekleyebilecek en çok bayttır;
	// dolunca yazan, istemci yoklayana kadar bekler.
	maxQueue int
	// conns, oturum kimliğinden bağlantıya: yükseltmede kuyrukta kalanları
	// WebSocket'e aktarmak için.
	conns sync.Map
}

func (t *pollingTransport) Name() string { return "polling" }

func (t *pollingTransport) Dial(*url.URL, http.Header) (transport.Conn, error) {
	return nil, errNoDial
}

// Accept, el sıkışma isteğinden yeni bir bağlantı oluşturur.
func (t *pollingTransport) Accept(w http.ResponseWriter, r *http.Request) (transport.Conn, error) {
	return &pollingConn{
		t:       t,
		url:     *r.URL,
		header:  r.Header,
		local:   addr(r.Host),
		remote:  addr(r.RemoteAddr),
		text:    r.URL.Query().Get("b64") != "",
		inbox:   make(chan eioPacket),
		closed:  make(chan struct{}),
		changed: make(chan struct{}),
	}, nil
}

// pollingConn, bir istemcinin uzun yoklama bağlantısıdır. go-socket.io
// ondan NextReader ile okur, NextWriter ile yazar; istemcinin GET ve POST
// istekleri ServeHTTP'ye gelir.
type pollingConn struct {
	t      *pollingTransport
	url    url.URL
	header http.Header
	local  addr
	remote addr
	// text, yanıtların metin biçiminde (b64=1) istendiğini söyler.
	text bool

	// inbox, POST'ta gelen paketleri okuyucuya tek tek verir.
	inbox chan eioPacket
	// closed, Close işini bitirince kapanır.
	closed chan struct{}

	mu sync.Mutex
	// changed, mu altında her durum değişikliğinde kapatılıp yenilenir;
	// bekleyenler onu dinler.
	changed chan struct{}
	sid     string
	// out, istemcinin bir sonraki GET'ini bekleyen paketlerdir.
	out      []eioPacket
	outBytes int
	// handshakeDone, ilk GET yanıtlandı.
	handshakeDone bool
	getting       bool // bir GET bekliyor
	posting       bool // bir POST okunuyor
	writers       int  // NextWriter'dan alınmış, henüz kapatılmamış yazıcılar
	paused        bool // yükseltme sürüyor
	closing       bool // Close başladı
	superseded    bool // duraklatılmışken kapandı: yerini WebSocket'e bıraktı
	gone          bool // istemci gitti: kapanış istedi, GET'ini kesti ya da sustu
	readRetried   bool
	writeRetried  bool
	successor     *wsConn
	readDeadline  time.Time
	writeDeadline time.Time
}

// notify, bekleyenleri uyandırır; mu tutulurken çağrılır.
func (c *pollingConn) notify() {
	close(c.changed)
	c.changed = make(chan struct{})
}

// wait, mu'yu bırakıp bir değişikliği, deadline'ı ya da done'ı bekler ve
// mu'yu yeniden alır. Süre dolduysa ya da done kapandıysa false döndürür.
func (c *pollingConn) wait(deadline time.Time, done <-chan struct{}) bool {
	ch := c.changed
	c.mu.Unlock()
	defer c.mu.Lock()
	var timeout <-chan time.Time
	if !deadline.IsZero() {
		d := time.Until(deadline)
		if d <= 0 {
			return false
		}
		t := time.NewTimer(d)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case <-ch:
		return true
	case <-timeout:
		return false
	case <-done:
		return false
	}
}

// closedErr, kapanmış bağlantıdaki bir okuma ya da yazmanın hatasıdır:
// yerini devretmiş bağlantıda bir kez "yeniden dene", sonra io.EOF.
func (c *pollingConn) closedErr(retried *bool) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.superseded && !*retried {
		*retried = true
		return errSuperseded{}
	}
	return io.EOF
}

// NextReader, istemcinin POST ile gönderdiği bir sonraki paketi döndürür.
func (c *pollingConn) NextReader() (frame.Type, packet.Type, io.ReadCloser, error) {
	c.mu.Lock()
	deadline := c.readDeadline
	c.mu.Unlock()
	var timeout <-chan time.Time
	if !deadline.IsZero() {
		t := time.NewTimer(time.Until(deadline))
		defer t.Stop()
		timeout = t.C
	}
	select {
	case p := <-c.inbox:
		return p.ft, p.pt, newFrameReader(p.data), nil
	case <-c.closed:
		return 0, 0, nil, c.closedErr(&c.readRetried)
	case <-timeout:
		c.markGone()
		return 0, 0, nil, errReadTimeout
	}
}

// markGone, istemcinin artık yoklamayacağını kaydeder: Close onun son
// GET'ini beklemez.
func (c *pollingConn) markGone() {
	c.mu.Lock()
	c.gone = true
	c.mu.Unlock()
}

// NextWriter, bir paket yazıcısı döndürür; paket, yazıcı kapatılınca
// kuyruğa girer. Kuyruk doluysa ya da yükseltme sürüyorsa bekler.
func (c *pollingConn) NextWriter(ft frame.Type, pt packet.Type) (io.WriteCloser, error) {
	c.mu.Lock()
	for c.closing || c.paused || c.outBytes >= c.t.maxQueue {
		if c.closing {
			c.mu.Unlock()
			<-c.closed
			return nil, c.closedErr(&c.writeRetried)
		}
		if !c.wait(c.writeDeadline, nil) {
			c.mu.Unlock()
			return nil, errWriteTimeout
		}
	}
	c.writers++
	c.mu.Unlock()
	return newFrameWriter(c, ft, pt), nil
}

// commit, kapatılan yazıcının paketini kuyruğa koyar.
func (c *pollingConn) commit(w *frameWriter) error {
	data := bytes.Clone(w.Bytes()[1:]) // tür baytı olmadan
	c.mu.Lock()
	defer c.mu.Unlock()
	c.writers--
	c.notify()
	if c.closing {
		return errClosed
	}
	if w.pt == packet.OPEN && c.sid == "" {
		c.register(data)
	}
	c.out = append(c.out, eioPacket{ft: w.ft, pt: w.pt, data: data})
	c.outBytes += 1 + len(data)
	return nil
}

// register, açılış paketindeki oturum kimliğini okur ve bağlantıyı
// yükseltmede bulunabilsin diye kaydeder.
func (c *pollingConn) register(open []byte) {
	var params struct {
		SID string `json:"sid"`
	}
	if json.Unmarshal(open, &params) == nil && params.SID != "" {
		c.sid = params.SID
		c.t.conns.Store(c.sid, c)
	}
}

// handOver, yükseltmede bağlantının yerini alacak WebSocket'i bildirir.
// WebSocket, bu bağlantı kapanıp kuyruğunda kalanları ona yazana dek
// (Close) mesaj yazmaz.
func (c *pollingConn) handOver(ws *wsConn) {
	c.mu.Lock()
	c.successor = ws
	ws.before = c.closed
	c.mu.Unlock()
}

// Pause, yükseltme başlarken go-socket.io tarafından çağrılır. Yeni
// yazmaları durdurur, süren yazmaların bitmesini bekler ve bekleyen GET'i
// hemen yanıtlatır.
func (c *pollingConn) Pause() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.paused = true
	c.notify()
	for c.writers > 0 && !c.closing {
		c.wait(time.Time{}, nil)
	}
}

// Resume, başarısız bir yükseltmeden sonra bağlantıyı yeniden açar.
func (c *pollingConn) Resume() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.paused = false
	c.notify()
}

// Close, bağlantıyı kapatır. Duraklatılmışken (yükseltme bitince)
// kapanan bağlantı, kuyruğunda kalanları önce WebSocket'e yazar, sonra
// bekleyen okuyucu ve yazıcıyı yeni bağlantıya yollar.
func (c *pollingConn) Close() error {
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		<-c.closed
		return nil
	}
	c.closing = true
	c.superseded = c.paused
	c.notify()
	var leftovers []eioPacket
	if c.superseded {
		leftovers, c.out, c.outBytes = c.out, nil, 0
	} else if !c.gone {
		// Node'un engine.io'su gibi: kuyrukta kalanlar (örneğin "sunucu
		// yeniden başlıyor" bildirimi) bekleyen ya da gelecek GET ile, bir
		// kapanış paketinin önünde gider; en çok closeWait kadar beklenir.
		deadline := time.Now().Add(closeWait)
		for len(c.out) > 0 && !c.gone && c.wait(deadline, nil) {
		}
		c.out, c.outBytes = nil, 0
	}
	succ, sid := c.successor, c.sid
	c.mu.Unlock()

	if sid != "" {
		c.t.conns.CompareAndDelete(sid, c)
	}
	if succ != nil && len(leftovers) > 0 {
		succ.writePackets(leftovers)
	}
	close(c.closed)
	return nil
}

// ServeHTTP, istemcinin isteklerini karşılar: GET bekleyen paketleri
// alır, POST yeni paketler getirir.
func (c *pollingConn) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		c.serveGet(w, r)
	case http.MethodPost:
		c.servePost(w, r)
	default:
		http.Error(w, "Yalnızca GET ve POST.", http.StatusMethodNotAllowed)
	}
}

// serveGet, kuyrukta paket olana kadar bekler ve hepsini tek yanıtta
// gönderir. Bağlantı duraklatıldıysa (yükseltme) hemen yanıt verir;
// kapandıysa kalanların ardından bir kapanış paketi gönderir.
func (c *pollingConn) serveGet(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	if c.getting {
		c.mu.Unlock()
		http.Error(w, "Bu oturumda zaten bekleyen bir GET var.", http.StatusBadRequest)
		return
	}
	c.getting = true
	// El sıkışma yanıtı açılış paketiyle Socket.IO'nun bağlantı paketini
	// birlikte bekler (en çok handshakeWait kadar); sonraki yanıtlar ilk
	// paketle gider.
	need, deadline := 1, time.Time{}
	if !c.handshakeDone {
		need, deadline = 2, time.Now().Add(handshakeWait)
	}
	for !c.closing && !c.paused && len(c.out) < need {
		if !c.wait(deadline, r.Context().Done()) {
			if r.Context().Err() != nil {
				// İstemci bekleyen isteğini kesti: sekme kapandı ya da
				// yenilendi. Node'un engine.io'su gibi oturumu hemen
				// bitiririz; ping süresini beklemeyiz.
				c.getting, c.gone = false, true
				c.mu.Unlock()
				_ = c.Close()
				return
			}
			need, deadline = 1, time.Time{}
		}
	}
	batch := c.out
	c.out, c.outBytes = nil, 0
	if c.closing && !c.superseded {
		batch = append(batch, eioPacket{ft: frame.String, pt: packet.CLOSE})
	}
	if len(batch) == 0 {
		batch = append(batch, eioPacket{ft: frame.String, pt: packet.NOOP})
	}
	c.handshakeDone = true
	c.getting = false
	c.notify()
	c.mu.Unlock()

	var body []byte
	if c.text {
		w.Header().Set("Content-Type", "text/plain; charset=UTF-8")
		body = encodeText(nil, batch)
	} else {
		w.Header().Set("Content-Type", "application/octet-stream")
		body = encodeBinary(nil, batch)
	}
	_, _ = w.Write(body)
}

// servePost, gövdedeki paketleri okuyucuya tek tek verir ve hepsi
// alınınca "ok" yanıtlar.
func (c *pollingConn) servePost(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			c.t.log.Warn("bağlantı kapatıldı: uzun yoklama gövdesi sınırı aşıyor", "limit", tooBig.Limit, "remote", c.remote)
			http.Error(w, "İstek gövdesi çok büyük.", http.StatusRequestEntityTooLarge)
			_ = c.Close()
			return
		}
		http.Error(w, "İstek gövdesi okunamadı.", http.StatusBadRequest)
		return
	}
	packets, err := decodePost(r.Header.Get("Content-Type"), body)
	if err != nil {
		c.t.log.Warn("bağlantı kapatıldı: bozuk uzun yoklama gövdesi", "error", err, "remote", c.remote)
		http.Error(w, "Bozuk Engine.IO gövdesi.", http.StatusBadRequest)
		_ = c.Close()
		return
	}

	c.mu.Lock()
	if c.posting {
		c.mu.Unlock()
		http.Error(w, "Bu oturumda zaten okunan bir POST var.", http.StatusBadRequest)
		return
	}
	c.posting = true
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.posting = false
		c.mu.Unlock()
	}()

	for _, p := range packets {
		if p.pt == packet.CLOSE {
			c.markGone() // istemci kapanış istedi: bir daha yoklamaz
		}
		select {
		case c.inbox <- p:
		case <-c.closed:
			http.Error(w, "Oturum kapandı.", http.StatusBadRequest)
			return
		case <-r.Context().Done():
			return
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=UTF-8")
	_, _ = io.WriteString(w, "ok")
}

// decodePost, POST gövdesini içerik türüne göre çözer.
func decodePost(contentType string, body []byte) ([]eioPacket, error) {
	typ, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return nil, errBadPayload
	}
	switch typ {
	case "text/plain":
		return decodeText(body)
	case "application/octet-stream":
		return decodeBinary(body)
	}
	return nil, errBadPayload
}

func (c *pollingConn) URL() url.URL              { return c.url }
func (c *pollingConn) LocalAddr() net.Addr       { return c.local }
func (c *pollingConn) RemoteAddr() net.Addr      { return c.remote }
func (c *pollingConn) RemoteHeader() http.Header { return c.header }

func (c *pollingConn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	c.readDeadline = t
	c.mu.Unlock()
	return nil
}

func (c *pollingConn) SetWriteDeadline(t time.Time) error {
	c.mu.Lock()
	c.writeDeadline = t
	c.notify() // kuyruk için bekleyen yazıcı yeni süreyi görsün
	c.mu.Unlock()
	return nil
}

// addr, uzun yoklamanın adresidir (istekten okunur).
type addr string

func (a addr) Network() string { return "tcp" }
func (a addr) String() string  { return string(a) }
