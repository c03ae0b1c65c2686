package main

import (
	"log/slog"
	"sync"
	"time"

	socketio "github.com/googollee/go-socket.io"
)

// client, bağlı bir kullanıcının giden mesaj kuyruğunu ve yazıcısını tutar.
//
// go-socket.io'da Emit, bağlantının yazıcısı paketi alana kadar bekler.
// Uzun yoklamada bu, tarayıcı bir sonraki isteği gönderene kadar, ölü bir
// bağlantıda ise ping süresi dolana kadar sürebilir. Bu yüzden Emit'i
// yalnızca her bağlantının kendi goroutine'i çağırır: bir bağlantı
// beklerse yalnızca kendi kuyruğu dolar, başkası beklemez.
type client struct {
	conn socketio.Conn

	// send, yayınlanacak mesajların sınırlı kuyruğudur. Dolarsa
	// kullanıcı yetişemiyor demektir ve bağlantısı kesilir.
	send chan outgoing

	// done, bağlantı kapanınca kapanır ve yazıcıyı durdurur.
	done     chan struct{}
	doneOnce sync.Once

	// limiter, kullanıcının mesaj hızını sınırlar; lastNotice, ona son
	// bildirimin gönderildiği andır. İkisini de yalnızca bağlantının okuma
	// goroutine'i kullanır (go-socket.io olayları sırayla işler).
	limiter    *rateLimiter
	lastNotice time.Time
}

// outgoing, kuyruktaki bir olaydır.
type outgoing struct {
	event string
	text  string
}

// writePump, kuyruktaki olayları sırayla bağlantıya yazar. Bir bağlantıya
// yalnızca bu goroutine yazar.
func (c *client) writePump() {
	for {
		select {
		case m := <-c.send:
			c.conn.Emit(m.event, m.text)
		case <-c.done:
			return
		}
	}
}

// stop, yazıcıyı durdurur; birden çok kez çağrılabilir.
func (c *client) stop() {
	c.doneOnce.Do(func() { close(c.done) })
}

// hub, bağlı kullanıcıları tutar ve mesajları onların kuyruklarına dağıtır.
type hub struct {
	queueSize int
	log       *slog.Logger

	mu      sync.RWMutex
	clients map[string]*client
}

func newHub(queueSize int, log *slog.Logger) *hub {
	return &hub{
		queueSize: queueSize,
		log:       log,
		clients:   make(map[string]*client),
	}
}

// add, yeni bağlantı için bir kuyruk ve yazıcı başlatır.
func (h *hub) add(conn socketio.Conn, limiter *rateLimiter) *client {
	c := &client{
		conn:    conn,
		send:    make(chan outgoing, h.queueSize),
		done:    make(chan struct{}),
		limiter: limiter,
	}
	h.mu.Lock()
	h.clients[conn.ID()] = c
	h.mu.Unlock()
	go c.writePump()
	return c
}

// remove, bağlantıyı listeden çıkarır ve yazıcısını durdurur.
func (h *hub) remove(id string) {
	h.mu.Lock()
	c, ok := h.clients[id]
	delete(h.clients, id)
	h.mu.Unlock()
	if ok {
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

// broadcast, mesajı herkesin kuyruğuna koyar ve hiçbir bağlantıyı
// beklemez. Kuyruğu dolu olan kullanıcıların bağlantısı kesilir; tarayıcı
// kendiliğinden yeniden bağlanır.
func (h *hub) broadcast(event, text string) {
	var slow []*client
	h.mu.RLock()
	for _, c := range h.clients {
		select {
		case c.send <- outgoing{event, text}:
		default:
			slow = append(slow, c)
		}
	}
	h.mu.RUnlock()

	// Kapatma OnDisconnect'i, o da remove'u çağırır ve kilidi ister;
	// bu yüzden kilidi bıraktıktan sonra kapatırız.
	for _, c := range slow {
		h.log.Warn("yavaş kullanıcının bağlantısı kesildi: kuyruğu dolu",
			"id", c.conn.ID(), "kuyruk", h.queueSize)
		_ = c.conn.Close()
	}
}

// notify, yalnızca bu kullanıcıya olay gönderir. Kuyruğu doluysa
// bildirimi atlar: bildirim için kimseyi beklemeyiz.
func (c *client) notify(event, text string) {
	select {
	case c.send <- outgoing{event, text}:
	default:
	}
}

// closeAll, herkese son bir bildirim göndermeyi dener, en çok wait kadar
// bekler ve bütün bağlantıları kapatır. Kapanışta kullanılır.
func (h *hub) closeAll(notice string, wait time.Duration) {
	h.mu.RLock()
	clients := make([]*client, 0, len(h.clients))
	for _, c := range h.clients {
		clients = append(clients, c)
	}
	h.mu.RUnlock()

	// Bildirimi kuyruğu beklemeden, doğrudan yazarız. Ölü bir uzun
	// yoklama bağlantısında Emit bekleyebilir; bu yüzden her birini
	// ayrı goroutine'de başlatır ve toplamda en çok wait kadar bekleriz.
	// Bağlantıyı kapatmak, bekleyen Emit'i de serbest bırakır.
	var wg sync.WaitGroup
	for _, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.conn.Emit("chat notice", notice)
		}()
	}
	sent := make(chan struct{})
	go func() {
		wg.Wait()
		close(sent)
	}()
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case <-sent:
	case <-timer.C:
	}

	for _, c := range clients {
		_ = c.conn.Close()
	}
	<-sent
}
