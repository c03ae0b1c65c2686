package main

import (
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
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

// client, bağlı bir kullanıcının takma adını, giden mesaj kuyruğunu ve
// yazıcısını tutar.
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

	// nick, kullanıcının takma adıdır; yalnızca hub.mu tutulurken değişir.
	nick string

	mu sync.Mutex
	// queue, gönderilecek olayların sınırlı kuyruğudur (en çok
	// hub.queueSize). Dolarsa kullanıcı yetişemiyor demektir ve bağlantısı
	// kesilir.
	queue []outgoing
	// wake, çalışan yazıcıyı uyandırır; yazıcı yokken nil'dir.
	wake chan struct{}
	// stopped, bağlantı kapanınca true olur; kuyruğa artık bir şey girmez.
	stopped bool
	// holding, geçmiş gönderilene kadar true'dur: yazıcı başlamaz, gelen
	// olaylar held'de bekler (kuyruk sınırına o da dahil).
	holding bool
	held    []outgoing
	// extra, kuyruğun başındaki, sınıra sayılmayan geçmiş mesajlarının
	// sayısıdır: geçmiş kuyruk sınırından uzun olabilir.
	extra int

	// limiter, kullanıcının mesaj hızını, typingLimiter yazma
	// bildirimlerinin hızını sınırlar; lastNotice, ona son bildirimin
	// gönderildiği andır. Üçünü de yalnızca bağlantının okuma goroutine'i
	// kullanır (go-socket.io olayları sırayla işler).
	limiter       *rateLimiter
	typingLimiter *rateLimiter
	lastNotice    time.Time
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
	if len(c.queue)+len(c.held)-c.extra >= max {
		return false
	}
	if c.holding {
		c.held = append(c.held, m)
		return true
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
	c.extra = max(c.extra-1, 0)
	return m, true
}

// release, önce prefix'i (geçmiş), sonra bekletilenleri kuyruğa koyar ve
// yazıcıyı başlatır. Geçmiş kuyruk sınırına sayılmaz; bekletilenler
// sayılır (push onları sınırda keser).
func (c *client) release(prefix []outgoing) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped {
		return
	}
	c.holding = false
	c.extra = len(c.queue) + len(prefix) // "welcome" ve geçmiş
	c.queue = append(append(c.queue, prefix...), c.held...)
	c.held = nil
	if len(c.queue) > 0 {
		c.wakeWriter()
	}
}

// stop, kuyruğu boşaltır ve yazıcıyı durdurur; birden çok kez
// çağrılabilir.
func (c *client) stop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stopped, c.queue, c.held = true, nil, nil
	if c.wake != nil {
		c.signal()
	}
}

// Olayların verileri; alan adları protokolün parçasıdır (README'deki
// tablo).
type (
	// welcome, yeni bağlanana verilen takma adı, çevrimiçi herkesi ve
	// yayınlanmış en büyük mesaj kimliğini söyler. Sayfa, gösterdiği
	// kimlik bundan büyükse geçmişin silindiğini anlar.
	welcome struct {
		Nick  string   `json:"nick"`
		Users []string `json:"users"`
		Last  int64    `json:"last"`
	}
	// presence, birinin katıldığını ya da ayrıldığını söyler.
	presence struct {
		Nick string `json:"nick"`
	}
	// renamed, birinin takma adını değiştirdiğini söyler.
	renamed struct {
		From string `json:"from"`
		To   string `json:"to"`
	}
	// typingNotice, birinin yazmaya başladığını ya da bıraktığını söyler.
	typingNotice struct {
		Nick   string `json:"nick"`
		Typing bool   `json:"typing"`
	}
	// privatePayload, bir özel mesajdır.
	privatePayload struct {
		From string `json:"from"`
		To   string `json:"to"`
		Text string `json:"text"`
		At   int64  `json:"at"` // Unix zamanı, milisaniye
	}
)

// hub, bağlı kullanıcıları ve takma adlarını tutar, olayları onların
// kuyruklarına dağıtır. Bağlı kullanıcı sayısının tek kaynağıdır:
// bağlantı sınırı da /healthz de onu sayar. Kümede diğer süreçlerin
// kullanıcılarını da bilir (peers): çevrimiçi listesi herkesi gösterir,
// bir takma ad kümenin hiçbir yerinde iki kez kullanılmaz.
//
// Katılma, ayrılma ve ad değiştirme hub.mu'nun yazma kilidi altında olur
// ve bildirimleri de o kilit altında kuyruklara girer. Her kullanıcının
// kuyruğu sıralı olduğu için herkes bu olayları aynı sırayla görür:
// çevrimiçi listesi, "welcome"dan sonra gelen olaylarla her sayfada aynı
// kalır.
type hub struct {
	queueSize int
	max       int
	log       *slog.Logger

	mu      sync.RWMutex
	clients map[string]*client // bağlantı kimliğinden
	byNick  map[string]*client // nickKey(takma ad)'dan
	// closed, closeAll başlayınca true olur; ondan sonra add reddeder.
	closed bool

	// share, bu süreçteki bir olayı diğer süreçlere gönderir; tek süreçte
	// nil'dir. Beklemez; gönderemeyecekse false döndürür.
	share func(envelope) bool
	// peers, diğer süreçlerdeki kullanıcılardır, süreç kimliğinden.
	peers map[string]*peer
}

// peer, başka bir süreçtir: kullanıcıları ve sesinin son duyulduğu an.
type peer struct {
	users map[string]string // nickKey(takma ad)'dan takma ada
	seen  time.Time
}

func newHub(queueSize, max int, log *slog.Logger) *hub {
	return &hub{
		queueSize: queueSize,
		max:       max,
		log:       log,
		clients:   make(map[string]*client),
		byNick:    make(map[string]*client),
		peers:     make(map[string]*peer),
	}
}

// tell, olayı diğer süreçlere gönderir; tek süreçte bir şey yapmaz.
func (h *hub) tell(e envelope) bool {
	return h.share != nil && h.share(e)
}

// taken, takma adın bu süreçte ya da bilinen başka bir süreçte
// kullanıldığını söyler; h.mu tutulurken çağrılır.
func (h *hub) taken(key string) bool {
	if _, ok := h.byNick[key]; ok {
		return true
	}
	for _, p := range h.peers {
		if _, ok := p.users[key]; ok {
			return true
		}
	}
	return false
}

// add, yeni bağlantıya takma adını verir, ona "welcome", diğerlerine "user
// joined" gönderir. İstediği ad (wanted, el sıkışmanın "nick" sorgu
// parametresi) geçerliyse ve boştaysa onu, değilse bir misafir adı alır.
// Sunucu doluysa ya da kapanıyorsa reddeder. Sayma ve ekleme aynı kilit
// altındadır: aynı anda gelen bağlantılar sınırı aşamaz.
//
// Yeni kullanıcının yazıcısı, geçmişi gönderilene (release) kadar
// bekletilir; last, o ana kadar yayınlanan en büyük kimliktir.
func (h *hub) add(conn socketio.Conn, limiter *rateLimiter, wanted string, last int64) (*client, error) {
	h.mu.Lock()
	switch {
	case h.closed:
		h.mu.Unlock()
		return nil, errShuttingDown
	case len(h.clients) >= h.max:
		h.mu.Unlock()
		return nil, errFull
	}
	nick, err := validateNick(wanted)
	if err != nil || h.taken(nickKey(nick)) {
		nick = h.guestNick()
	}
	c := &client{conn: conn, nick: nick, limiter: limiter, holding: true}
	h.clients[conn.ID()] = c
	h.byNick[nickKey(c.nick)] = c
	users := make([]string, 0, len(h.clients))
	for _, o := range h.clients {
		users = append(users, o.nick)
	}
	for _, p := range h.peers {
		for _, nick := range p.users {
			users = append(users, nick)
		}
	}
	slices.Sort(users)
	c.queue = append(c.queue, outgoing{"welcome", welcome{Nick: c.nick, Users: users, Last: last}})
	slow := h.toOthers(c, "user joined", presence{Nick: c.nick})
	h.tell(envelope{Kind: kindJoined, Nick: c.nick})
	h.mu.Unlock()
	h.drop(slow)
	return c, nil
}

// guestNick, henüz kullanılmayan bir misafir adı üretir ("misafir-4f2a");
// h.mu tutulurken çağrılır.
func (h *hub) guestNick() string {
	for digits := 4; ; digits++ {
		for range 8 {
			nick := fmt.Sprintf("%s%0*x", guestPrefix, digits, rand.IntN(1<<(4*digits)))
			if !h.taken(nickKey(nick)) {
				return nick
			}
		}
	}
}

// rename, c'nin takma adını nick yapar ve herkese "nickname changed"
// gönderir. Ad çevrimiçi başka birindeyse reddeder. Kendi adını başka
// harflerle (ali → Ali) yazmak serbesttir.
func (h *hub) rename(c *client, nick string) error {
	h.mu.Lock()
	key := nickKey(nick)
	if other, taken := h.byNick[key]; (taken && other != c) || (!taken && h.taken(key)) {
		h.mu.Unlock()
		return errNickTaken
	}
	old := c.nick
	if _, ok := h.clients[c.conn.ID()]; !ok || old == nick {
		h.mu.Unlock()
		return nil
	}
	delete(h.byNick, nickKey(old))
	h.byNick[key] = c
	c.nick = nick
	slow := h.toAll("nickname changed", renamed{From: old, To: nick})
	h.tell(envelope{Kind: kindRenamed, From: old, To: nick})
	h.mu.Unlock()
	h.drop(slow)
	return nil
}

// remove, bağlantıyı listeden çıkarır, yazıcısını durdurur ve
// diğerlerine "user left" gönderir.
func (h *hub) remove(id string) {
	h.mu.Lock()
	c, ok := h.clients[id]
	if !ok {
		h.mu.Unlock()
		return
	}
	delete(h.clients, id)
	delete(h.byNick, nickKey(c.nick))
	c.stop()
	var slow []*client
	if !h.taken(nickKey(c.nick)) { // aynı ad başka bir süreçte kalmadıysa
		slow = h.toAll("user left", presence{Nick: c.nick})
	}
	h.tell(envelope{Kind: kindLeft, Nick: c.nick})
	h.mu.Unlock()
	h.drop(slow)
}

// Özel mesajın hataları; onayda gönderene gider.
var (
	errNotOnline   = errors.New("bu takma adla çevrimiçi kimse yok")
	errToSelf      = errors.New("kendinize özel mesaj gönderemezsiniz")
	errPeerOffline = errors.New("alıcı başka bir sunucuda ve ona şu an ulaşılamıyor, biraz sonra tekrar deneyin")
)

// sendPrivate, özel mesajı yalnızca alıcının ve gönderenin kuyruğuna
// koyar: başka hiç kimse görmez. Alıcı takma adla, büyük-küçük harf
// ayrımı olmadan bulunur. Alıcı başka bir süreçteyse mesaj Redis'le
// ona gider; gönderenin kopyası yine buradan.
func (h *hub) sendPrivate(from *client, to, text string, at int64) error {
	h.mu.RLock()
	key := nickKey(to)
	rcpt, ok := h.byNick[key]
	if !ok {
		defer h.mu.RUnlock()
		for _, p := range h.peers {
			if nick, ok := p.users[key]; ok {
				pm := privatePayload{From: from.nick, To: nick, Text: text, At: at}
				if !h.tell(envelope{Kind: kindPrivate, Private: &pm}) {
					return errPeerOffline
				}
				if !from.push(outgoing{"private message", pm}, h.queueSize) {
					go h.drop([]*client{from})
				}
				return nil
			}
		}
		return errNotOnline
	}
	if rcpt == from {
		h.mu.RUnlock()
		return errToSelf
	}
	m := outgoing{"private message", privatePayload{From: from.nick, To: rcpt.nick, Text: text, At: at}}
	var slow []*client
	for _, c := range []*client{rcpt, from} {
		if !c.push(m, h.queueSize) {
			slow = append(slow, c)
		}
	}
	h.mu.RUnlock()
	h.drop(slow)
	return nil
}

// typing, c'nin yazma durumunu kendisi dışındaki herkese bildirir.
func (h *hub) typing(c *client, typing bool) {
	h.mu.RLock()
	slow := h.toOthers(c, "typing", typingNotice{Nick: c.nick, Typing: typing})
	h.tell(envelope{Kind: kindTyping, Nick: c.nick, Typing: typing})
	h.mu.RUnlock()
	h.drop(slow)
}

// release, geçmişi gönderilen kullanıcının yazıcısını başlatır.
func (h *hub) release(c *client, history []outgoing) {
	c.release(history)
}

// get, kimliği verilen kullanıcıyı döndürür.
func (h *hub) get(id string) (*client, bool) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	c, ok := h.clients[id]
	return c, ok
}

// nickOf, kullanıcının şu anki takma adıdır.
func (h *hub) nickOf(c *client) string {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return c.nick
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
