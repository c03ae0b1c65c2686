package main

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// Kümenin zamanlamaları ve sınırları.
const (
	// heartbeatEvery, her sürecin kendi kullanıcılarının listesini Redis'e
	// yayınladığı ve takma ad kayıtlarını tazelediği aralıktır (kalp
	// atışı).
	heartbeatEvery = 2 * time.Second

	// presenceTTL, sesi çıkmayan bir sürecin ölü sayılmasına kadar geçen
	// süredir; takma ad kayıtları da bu sürede kendiliğinden silinir.
	// SIGKILL ile ölen bir sürecin kullanıcıları, diğer süreçlerin
	// listelerinden en geç presenceTTL + heartbeatEvery = 8 saniyede düşer.
	presenceTTL = 6 * time.Second

	// redisTimeout, tek bir Redis işinin en uzun süresidir.
	redisTimeout = time.Second

	// retryEvery, Redis'e ulaşılamazken yeniden bağlanmayı deneme
	// aralığıdır. Bu arada diğer süreçlerin mesajları da aynı aralıkla
	// veritabanından okunur.
	retryEvery = time.Second

	// gapWait, kimliklerde bir boşluk görünce eksik mesajın Redis'ten
	// gelmesi için beklenen süredir; gelmezse veritabanından okunur.
	gapWait = 100 * time.Millisecond

	// outboxSize, Redis'e gönderilmeyi bekleyen en çok olaydır. Redis
	// yavaşlar ya da düşerse fazlası atılır: sohbet mesajları
	// veritabanından, çevrimiçi listesi kalp atışından geri gelir.
	outboxSize = 4096

	// redisPoolSize, komutlar için açılan en çok Redis bağlantısıdır; abone
	// olmak için bir bağlantı daha açılır. Heroku Key-Value Store'un en
	// küçük planı (mini) 20 bağlantıya izin verir: süreç başına 5, üç
	// dyno için 15 bağlantı.
	redisPoolSize = 4
)

// Redis'teki adlar.
const (
	// eventsChannel, bütün süreçlerin yayın yaptığı ve dinlediği kanaldır.
	eventsChannel = "sohbet:events"
	// nickKeyPrefix + nickKey(ad), o takma adı tutan sürecin kimliğini
	// saklar (süresi presenceTTL).
	nickKeyPrefix = "sohbet:nick:"
)

// Zarfın türleri.
const (
	kindChat    = "chat"    // saklanmış bir sohbet mesajı
	kindJoined  = "joined"  // bir kullanıcı katıldı
	kindLeft    = "left"    // bir kullanıcı ayrıldı
	kindRenamed = "renamed" // bir kullanıcı adını değiştirdi
	kindTyping  = "typing"  // biri yazıyor ya da bıraktı
	kindPrivate = "private" // başka süreçteki birine özel mesaj
	kindUsers   = "users"   // kalp atışı: sürecin bütün kullanıcıları
)

// envelope, Redis kanalından geçen bir olaydır. Proc, onu gönderen
// sürecin kimliğidir; süreç kendi zarflarını yok sayar.
type envelope struct {
	Proc    string          `json:"proc"`
	Kind    string          `json:"kind"`
	Message *message        `json:"message,omitempty"`
	Private *privatePayload `json:"private,omitempty"`
	Nick    string          `json:"nick,omitempty"`
	From    string          `json:"from,omitempty"`
	To      string          `json:"to,omitempty"`
	Typing  bool            `json:"typing,omitempty"`
	Users   []string        `json:"users,omitempty"`
}

// cluster, bu süreci Redis üzerinden diğer süreçlere bağlar. Redis
// yalnızca haber taşır, hiçbir şeyi saklamaz: mesajların kaydı
// veritabanındadır. Redis'in kaçırttığı bir mesaj (yeniden başlama,
// kopan abonelik) veritabanından okunur.
//
// Neden Redis Streams değil de pub/sub: bir yayın, o an abone olan her
// sürece hemen gider ve Redis'te yer tutmaz (en küçük planda 25 MB var).
// Pub/sub kaçırılan mesajı saklamaz; ama kaçırılan mesajı fark etmek
// için kimliklerdeki boşluğa bakmak, onu getirmek için veritabanına
// sormak yeter.
type cluster struct {
	id  string // bu sürecin rastgele kimliği
	rdb *redis.Client
	log *slog.Logger
	out chan envelope // Redis'e gidecek zarflar

	// up, aboneliğin sürdüğünü söyler; /healthz bunu bildirir. told,
	// Redis'in durumunun en az bir kez günlüğe yazıldığını söyler.
	up, told atomic.Bool

	// Sunucunun verdiği işlevler:
	receive   func(envelope)        // başka bir süreçten gelen zarf
	catchUp   func()                // kaçırılan mesajları veritabanından oku
	heartbeat func()                // kullanıcı listesini (kindUsers) gönder
	holds     func(key string) bool // bu süreç bu takma adı tutuyor mu
	reconnect func()                // abonelik yeniden kuruldu
}

// newCluster, REDIS_URL'deki Redis için bir istemci hazırlar; henüz
// bağlanmaz.
func newCluster(redisURL string, log *slog.Logger) (*cluster, error) {
	opts, err := redisOptions(redisURL)
	if err != nil {
		return nil, err
	}
	// go-redis'in günlükçüsü bütün programda tektir; bir kez ayarlanır.
	setRedisLog.Do(func() { redis.SetLogger(redisLog{log}) })
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return &cluster{
		id:  fmt.Sprintf("%x", b),
		rdb: redis.NewClient(opts),
		log: log,
		out: make(chan envelope, outboxSize),
	}, nil
}

// redisLog, go-redis'in kendi günlük satırlarını (İngilizce, her bağlanma
// denemesinde bir satır) yalnızca hata ayıklama düzeyinde yazar. Redis'in
// durumunu günlüğe biz, değiştiğinde ve Türkçe yazarız (setUp).
type redisLog struct{ log *slog.Logger }

var setRedisLog sync.Once

func (l redisLog) Printf(ctx context.Context, format string, v ...any) {
	l.log.DebugContext(ctx, "go-redis: "+fmt.Sprintf(format, v...))
}

// redisOptions, REDIS_URL'i go-redis'in ayarlarına çevirir.
//
// Heroku Key-Value Store, rediss:// (TLS) adresi verir ve kendinden
// imzalı bir sertifika kullanır; hiçbir sertifika otoritesi onu
// tanımaz. Heroku'nun belgesi bu yüzden istemcide sertifika
// doğrulamasını kapatmayı söyler (InsecureSkipVerify). Bağlantı yine de
// şifrelidir; yalnızca karşıdakinin kim olduğu denetlenmez. Sunucu ile
// Redis aynı bulut ağındadır; bu takası Heroku böyle önerir.
func redisOptions(redisURL string) (*redis.Options, error) {
	opts, err := redis.ParseURL(redisURL)
	if err != nil {
		return nil, fmt.Errorf("REDIS_URL okunamadı: %w", err)
	}
	if opts.TLSConfig != nil {
		opts.TLSConfig = &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS12}
	}
	opts.PoolSize = redisPoolSize
	opts.DialTimeout = redisTimeout
	opts.ReadTimeout = redisTimeout
	opts.WriteTimeout = redisTimeout
	// Redis düşmüşse tekrar tekrar denemek yalnızca bekletir: kaçırılan
	// mesajları zaten veritabanından okuruz.
	opts.MaxRetries = -1
	return opts, nil
}

// run, kümenin üç işini başlatır ve ctx bitince hepsini durdurur:
// zarfları Redis'e yazmak, kanalı dinlemek, kalp atışı. done, hepsi
// durunca kapanır.
func (c *cluster) run(ctx context.Context) (done <-chan struct{}) {
	finished := make(chan struct{})
	stopped := make(chan struct{}, 3)
	go func() { c.publish(ctx); stopped <- struct{}{} }()
	go func() { c.listen(ctx); stopped <- struct{}{} }()
	go func() { c.beat(ctx); stopped <- struct{}{} }()
	go func() {
		for range 3 {
			<-stopped
		}
		_ = c.rdb.Close()
		close(finished)
	}()
	return finished
}

// send, zarfı Redis'e gönderilmek üzere sıraya koyar ve hiçbir şeyi
// beklemez: kilit tutulurken de çağrılabilir. Redis'e ulaşılamıyorsa ya
// da sıra doluysa zarfı atar ve false döndürür.
func (c *cluster) send(e envelope) bool {
	if !c.up.Load() {
		return false
	}
	e.Proc = c.id
	select {
	case c.out <- e:
		return true
	default:
		return false
	}
}

// publish, sıradaki zarfları toplu hâlde (tek gidiş dönüşte) Redis'e
// yazar. Kendi kalp atışıyla takma ad kayıtlarını tazeler, ayrılanın
// adını bırakır.
// Kapanırken sırada kalanlar (kullanıcıların "ayrıldı" olayları) yine
// gönderilir.
func (c *cluster) publish(ctx context.Context) {
	var lastErr time.Time
	for {
		var batch []envelope
		stopping := false
		select {
		case <-ctx.Done():
			stopping = true
		case e := <-c.out:
			batch = append(batch, e)
		}
	more:
		for len(batch) < 256 {
			select {
			case e := <-c.out:
				batch = append(batch, e)
			default:
				break more
			}
		}
		if len(batch) > 0 {
			if err := c.write(batch); err != nil && time.Since(lastErr) > time.Second {
				lastErr = time.Now()
				c.log.Warn("Redis'e yazılamadı; diğer süreçler mesajları veritabanından okuyacak", "events", len(batch), "error", err)
			}
		}
		if stopping && len(batch) == 0 {
			return
		}
	}
}

// write, zarfları tek bir boru hattında (pipeline) Redis'e yazar.
func (c *cluster) write(batch []envelope) error {
	ctx, cancel := context.WithTimeout(context.Background(), redisTimeout)
	defer cancel()
	_, err := c.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, e := range batch {
			b, err := json.Marshal(e)
			if err != nil {
				return err
			}
			p.Publish(ctx, eventsChannel, b)
			c.sideEffects(ctx, p, e)
		}
		return nil
	})
	return err
}

// sideEffects, zarfın takma ad kayıtlarına etkisini aynı boru hattına
// ekler.
func (c *cluster) sideEffects(ctx context.Context, p redis.Pipeliner, e envelope) {
	var keys []string
	switch e.Kind {
	case kindUsers:
		for _, nick := range e.Users {
			keys = append(keys, nickKeyPrefix+nickKey(nick))
		}
		if len(keys) > 0 {
			refreshNicks.Eval(ctx, p, keys, c.id, int(presenceTTL/time.Second))
		}
	case kindLeft, kindRenamed:
		old := e.Nick
		if e.Kind == kindRenamed {
			old = e.From
		}
		// Aynı adı (başka harflerle) bu süreçte hâlâ biri tutuyorsa kaydı
		// bırakmayız.
		if !c.holds(nickKey(old)) {
			releaseNick.Eval(ctx, p, []string{nickKeyPrefix + nickKey(old)}, c.id)
		}
	}
}

// Takma ad kayıtlarının betikleri. Redis bir betiği bölmeden, tek
// seferde çalıştırır: "oku, benimse ya da boşsa yaz" arasına başka bir
// süreç giremez.
var (
	// refreshNicks, her adın kaydını bu sürece yazar ve süresini uzatır;
	// ad başka bir süreçteyse dokunmaz.
	refreshNicks = redis.NewScript(`
for _, key in ipairs(KEYS) do
  local owner = redis.call('GET', key)
  if owner == false or owner == ARGV[1] then
    redis.call('SET', key, ARGV[1], 'EX', ARGV[2])
  end
end
return 0`)
	// releaseNick, kayıt bu süreçteyse siler.
	releaseNick = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`)
)

// claim, takma adı bütün küme için bu sürece ayırır. Ad başka bir
// süreçteyse false döndürür. Redis'e ulaşılamıyorsa ad yalnızca bu
// süreçte denetlenir (true): Redis dönünce kalp atışı kaydı yazar.
func (c *cluster) claim(nick string) bool {
	if !c.up.Load() {
		return true
	}
	ctx, cancel := context.WithTimeout(context.Background(), redisTimeout)
	defer cancel()
	key := nickKeyPrefix + nickKey(nick)
	ok, err := c.rdb.SetNX(ctx, key, c.id, presenceTTL).Result()
	if err != nil || ok {
		return true
	}
	owner, err := c.rdb.Get(ctx, key).Result()
	return err != nil || owner == c.id
}

// listen, kanala abone olur ve gelen zarfları sunucuya verir. Abonelik
// koparsa retryEvery'de bir yeniden dener; bu arada kaçırılan mesajları
// veritabanından okutur. Her (yeniden) abonelikte de okutur: kopukken
// yayınlanan mesajlar böylece gelir.
func (c *cluster) listen(ctx context.Context) {
	for ctx.Err() == nil {
		c.subscribe(ctx)
		select {
		case <-ctx.Done():
			return
		case <-time.After(retryEvery):
		}
		c.catchUp()
	}
}

// subscribe, bir aboneliği kopana kadar dinler.
func (c *cluster) subscribe(ctx context.Context) {
	ps := c.rdb.Subscribe(ctx, eventsChannel)
	defer ps.Close()
	// ReceiveTimeout ctx'in bitişini beklemez; kapanışta aboneliği biz
	// kapatırız, bekleyen okuma da hatayla döner.
	stop := context.AfterFunc(ctx, func() { _ = ps.Close() })
	defer stop()
	for {
		// Kendi kalp atışımız heartbeatEvery'de bir gelir. presenceTTL
		// boyunca hiçbir şey gelmiyorsa bağlantı ölmüştür.
		msg, err := ps.ReceiveTimeout(ctx, presenceTTL)
		if err != nil {
			if ctx.Err() == nil {
				c.setUp(false, err)
			}
			return
		}
		switch m := msg.(type) {
		case *redis.Subscription:
			if m.Kind == "subscribe" {
				c.setUp(true, nil)
				c.reconnect()
				c.catchUp()
			}
		case *redis.Message:
			var e envelope
			if err := json.Unmarshal([]byte(m.Payload), &e); err != nil {
				c.log.Warn("Redis'ten anlaşılmayan bir zarf geldi", "error", err)
				continue
			}
			if e.Proc != c.id {
				c.receive(e)
			}
		}
	}
}

// setUp, Redis'in durumunu değiştirir ve günlüğe yalnızca ilk seferde ve
// durum değişince yazar: Redis'e hiç ulaşamayan bir süreç de bunu söyler,
// ama saniyede bir aynı satırı yazmaz.
func (c *cluster) setUp(up bool, err error) {
	if c.up.Swap(up) == up && c.told.Swap(true) {
		return
	}
	c.told.Store(true)
	if up {
		c.log.Info("Redis'e bağlandı: bütün süreçler tek sohbet", "process", c.id)
		return
	}
	c.log.Error("Redis'e ulaşılamıyor: bu süreç kendi kullanıcılarına hizmet ediyor, diğer süreçlerin mesajları veritabanından okunuyor",
		"process", c.id, "error", err)
}

// beat, heartbeatEvery'de bir kullanıcı listesini gönderir.
func (c *cluster) beat(ctx context.Context) {
	tick := time.NewTicker(heartbeatEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			c.heartbeat()
		}
	}
}

// ping, Redis'e ulaşılıp ulaşılamadığını söyler.
func (c *cluster) ping(ctx context.Context) error {
	return c.rdb.Ping(ctx).Err()
}
