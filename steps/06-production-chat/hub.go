package main

import (
	"errors"
	"log/slog"
	"sync"
	"time"

	socketio "github.com/googollee/go-socket.io"

	"sohbet/internal/gosocketio"
)

// hub.add'in hataları.
var (
	errFull         = errors.New("sunucu dolu")
	errShuttingDown = errors.New("sunucu kapanıyor")
)

// client, bağlı bir kullanıcının giden mesaj kuyruğunu ve yazıcısını tutar.
//
// go-socket.io'da Emit, bağlantının yazıcısı paketi alana kadar bekler.
// Uzun yoklamada bu, tarayıcı bir sonraki isteği gönderene kadar, ölü bir
// bağlantıda ise ping süresi dolana kadar sürebilir. Bu yüzden Emit'i
// yalnızca her bağlantının kendi yazıcı goroutine'i çağırır: bir bağlantı
// beklerse yalnızca kendi kuyruğu dolar, başkası beklemez.
//
// Kuyruk ve yazıcı, kullanılmadıkça yer tutmaz: boş kuyruk nil'dir,
// yazıcı goroutine'i kuyruğa mesaj girince başlar ve kuyruk bir süre
// (linger) boş kalınca biter. Binlerce boşta bekleyen kullanıcı böylece az
// bellek harcar.
type client struct {
	conn socketio.Conn

	mu sync.Mutex
	// queue, gönderilecek olayların sınırlı kuyruğudur (en çok
	// hub.queueSize). Dolarsa kullanıcı yetişemiyor demektir ve bağlantısı
	// kesilir.
	queue []outgoing
	// wake, çalışan yazıcıyı uyandırır; yazıcı yokken nil'dir.
	wake chan struct{}
	// stopped, bağlantı kapanınca true olur; kuyruğa artık bir şey girmez.
	stopped bool

	// limiter, kullanıcının mesaj hızını sınırlar; lastNotice, ona son
	// bildirimin gönderildiği andır. İkisini de yalnızca bağlantının okuma
	// goroutine'i kullanır (go-socket.io olayları sırayla işler).
	limiter    *rateLimiter
	lastNotice time.Time
}

// outgoing, kuyruktaki bir olaydır.
type outgoing struct {
	event string
	data  any
}

// linger, yazıcının kuyruk boşaldıktan sonra yeni mesaj için beklediği
// süredir. Her yeni goroutine küçük bir yığıtla başlar ve Emit'in
// derinliğine ulaşınca yığıtı kopyalanarak büyür. Mesaj alıp duran bir
// bağlantının yazıcısı her mesajda yeniden başlasaydı bu bedeli her
// mesajda öderdi (1000 kişilik yükte işlemcinin yaklaşık %9'u).
const linger = 100 * time.Millisecond

// push, m'yi kuyruğa koyar ve yazıcıyı başlatır ya da uyandırır; hiçbir
// şeyi beklemez. Kuyruk doluysa false döndürür.
func (c *client) push(m outgoing, max int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped {
		return true
	}
	if len(c.queue) >= max {
		return false
	}
	c.queue = append(c.queue, m)
	c.wakeWriter()
	return true
}

// wakeWriter, yazıcı yoksa onu başlatır, varsa uyandırır. c.mu tutulurken
// çağrılır.
func (c *client) wakeWriter() {
	if c.wake == nil {
		c.wake = make(chan struct{}, 1)
		go c.write(c.wake)
		return
	}
	c.signal()
}

// signal, bekleyen yazıcıyı uyandırır; yazıcı zaten uyandırılmışsa bir şey
// yapmaz. c.mu tutulurken ve c.wake nil değilken çağrılır.
func (c *client) signal() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// write, kuyruktaki olayları sırayla bağlantıya yazar. Kuyruk linger
// boyunca boş kalınca ya da bağlantı kapanınca biter. Bir bağlantıya aynı
// anda yalnızca bir yazıcı yazar.
func (c *client) write(wake <-chan struct{}) {
	var timer *time.Timer // ilk beklemede kurulur
	waited := false
	for {
		m, ok := c.next(waited)
		if !ok {
			if timer != nil {
				timer.Stop()
			}
			return
		}
		if m != nil {
			c.conn.Emit(m.event, m.data)
			waited = false
			continue
		}
		if timer == nil {
			timer = time.NewTimer(linger)
		} else {
			timer.Reset(linger)
		}
		select {
		case <-wake:
		case <-timer.C:
			waited = true
		}
	}
}

// next, kuyruktaki ilk olayı çıkarır; kuyruk boşsa m nil'dir. Bağlantı
// kapandıysa ya da yazıcı linger kadar beklediği (waited) hâlde kuyruk
// boşsa ok false'tur: yazıcı biter ve bir sonraki push yenisini başlatır.
func (c *client) next(waited bool) (m *outgoing, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped || waited && len(c.queue) == 0 {
		c.queue, c.wake = nil, nil
		return nil, false
	}
	if len(c.queue) == 0 {
		return nil, true
	}
	m = &c.queue[0]
	c.queue = c.queue[1:]
	return m, true
}

// stop, kuyruğu boşaltır ve yazıcıyı durdurur; birden çok kez
// çağrılabilir.
func (c *client) stop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stopped, c.queue = true, nil
	if c.wake != nil {
		c.signal()
	}
}

// hub, bağlı kullanıcıları tutar ve olayları onların kuyruklarına dağıtır.
// Bağlı kullanıcı sayısının tek kaynağıdır: bağlantı sınırı da /healthz
// de onu sayar.
type hub struct {
	queueSize int
	max       int
	log       *slog.Logger

	mu      sync.RWMutex
	clients map[string]*client // bağlantı kimliğinden
	// closed, closeAll başlayınca true olur; ondan sonra add reddeder.
	closed bool
}

func newHub(queueSize, max int, log *slog.Logger) *hub {
	return &hub{
		queueSize: queueSize,
		max:       max,
		log:       log,
		clients:   make(map[string]*client),
	}
}

// add, yeni bağlantı için bir kuyruk başlatır. Sunucu doluysa ya da
// kapanıyorsa reddeder. Sayma ve ekleme aynı kilit altındadır: aynı anda
// gelen bağlantılar sınırı aşamaz.
func (h *hub) add(conn socketio.Conn, limiter *rateLimiter) (*client, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case h.closed:
		return nil, errShuttingDown
	case len(h.clients) >= h.max:
		return nil, errFull
	}
	c := &client{conn: conn, limiter: limiter}
	h.clients[conn.ID()] = c
	return c, nil
}

// remove, bağlantıyı listeden çıkarır ve yazıcısını durdurur.
func (h *hub) remove(id string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if c, ok := h.clients[id]; ok {
		delete(h.clients, id)
		c.stop()
	}
}

// get, kimliği verilen kullanıcıyı döndürür.
func (h *hub) get(id string) (*client, bool) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	c, ok := h.clients[id]
	return c, ok
}

// count, bağlı kullanıcı sayısıdır.
func (h *hub) count() int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return len(h.clients)
}

// broadcast, olayı herkesin kuyruğuna koyar ve hiçbir bağlantıyı
// beklemez. Kuyruğu dolu olan kullanıcıların bağlantısı kesilir; tarayıcı
// kendiliğinden yeniden bağlanır.
func (h *hub) broadcast(event string, data any) {
	h.mu.RLock()
	slow := h.toAll(event, data)
	h.mu.RUnlock()
	h.drop(slow)
}

// toAll, olayı herkesin kuyruğuna koyar ve kuyruğu dolu olanları
// döndürür; h.mu (okuma ya da yazma) tutulurken çağrılır.
func (h *hub) toAll(event string, data any) []*client {
	return h.toOthers(nil, event, data)
}

// toOthers, olayı except dışındaki herkesin kuyruğuna koyar.
func (h *hub) toOthers(except *client, event string, data any) []*client {
	var slow []*client
	for _, c := range h.clients {
		if c != except && !c.push(outgoing{event, data}, h.queueSize) {
			slow = append(slow, c)
		}
	}
	return slow
}

// drop, kuyruğu dolu kullanıcıların bağlantısını keser. Kapatma
// OnDisconnect'i, o da remove'u çağırır ve kilidi ister; bu yüzden kilit
// bırakıldıktan sonra çağrılır. Kapatma, kapanış çerçevesi için biraz
// bekleyebilir: kimse onu da beklemesin.
func (h *hub) drop(slow []*client) {
	for _, c := range slow {
		h.log.Warn("yavaş kullanıcının bağlantısı kesildi: kuyruğu dolu",
			"id", c.conn.ID(), "queue", h.queueSize)
		go c.conn.Close()
	}
}

// notify, yalnızca bu kullanıcıya olay gönderir. Kuyruğu doluysa
// bildirimi atlar: bildirim için kimseyi beklemeyiz.
func (c *client) notify(event string, data any, max int) {
	c.push(outgoing{event, data}, max)
}

// closeAll, herkese son bir bildirim göndermeyi dener, en çok wait kadar
// bekler ve bütün bağlantıları kapatır. Kapanışta kullanılır.
func (h *hub) closeAll(notice string, wait time.Duration) {
	// Listeyi alırken kapıyı da kapatırız: bundan sonra gelen bir
	// bağlantıyı add reddeder, hiçbiri bildirimsiz ve açık kalmaz.
	h.mu.Lock()
	h.closed = true
	clients := make([]*client, 0, len(h.clients))
	for _, c := range h.clients {
		clients = append(clients, c)
	}
	h.mu.Unlock()

	// Bildirimi kuyruğu beklemeden, doğrudan yazarız. Ölü bir bağlantıda
	// Emit bekleyebilir; bu yüzden her biri kendi goroutine'inde ve
	// toplamda en çok wait kadar beklenir. Bağlantıyı kapatmak, bekleyen
	// Emit'i de serbest bırakır.
	var sent, closed sync.WaitGroup
	for _, c := range clients {
		sent.Add(1)
		go func() {
			defer sent.Done()
			c.conn.Emit("chat notice", notice)
			// İkinci Emit döndüğünde bildirim yazılmıştır.
			c.conn.Emit(gosocketio.FlushEvent)
		}()
	}
	allSent := make(chan struct{})
	go func() {
		sent.Wait()
		close(allSent)
	}()
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case <-allSent:
	case <-timer.C:
	}

	// Uzun yoklamada kapatma, kuyruktakileri son GET'e verene kadar
	// bekler; hepsini aynı anda kapatırız.
	for _, c := range clients {
		closed.Add(1)
		go func() {
			defer closed.Done()
			_ = c.conn.Close()
		}()
	}
	closed.Wait()
	<-allSent
}
