// Cluster komutu, son adımın (adım 11) sohbetini tek bilgisayarda küme
// olarak çalıştırır: geçici bir klasörde bir redis-server ve aynı Redis'e,
// aynı veritabanına bağlı üç sohbet süreci başlatır. Heroku'da birden çok
// dynoyla olacak olanı böylece kendi bilgisayarınızda görürsünüz: bir
// sürece bağlı sekmede yazılan mesaj, öteki süreçlere bağlı sekmelerde de
// görünür.
//
// Deponun kök klasöründe çalıştırın:
//
//	go run ./scripts/cluster
//	go run ./scripts/cluster -ports 4001,4002,4003
//
// redis-server kurulu olmalıdır (Debian ve Ubuntu'da
// sudo apt-get install redis-server, macOS'ta brew install redis).
// Süreçler mesajları geçici klasördeki bir SQLite dosyasında paylaşır;
// DATABASE_URL verilmişse onun gösterdiği PostgreSQL'de. Her sürecin
// günlüğü, satır başında sürecin adıyla ([3001], [redis]) standart hataya
// yazılır. Ctrl+C hepsini durdurur ve geçici klasörü siler. Linux ve
// macOS'ta çalışır.
package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"sohbet/internal/repo"
)

// Zamanlamalar.
const (
	// readyTimeout, Redis'in PING'e yanıt vermesi ve bütün sohbet
	// süreçlerinin Redis'e bağlanması için beklenen en uzun süredir.
	readyTimeout = 30 * time.Second
	// stopTimeout, SIGTERM'den sonra süreçlerin kapanması için beklenen
	// süredir; adımın kendi kapanış sınırı (10 saniye) buna sığar. Bu süre
	// geçerse süreçler öldürülür.
	stopTimeout = 15 * time.Second
)

// readyLines, her sohbet sürecinin günlüğünde beklenen satırlardır: port
// açıldı ve Redis aboneliği kuruldu. Süreç öteki süreçlerin mesajlarını
// ancak ikincisinden sonra alır; ikisinin sırası belli değildir.
var readyLines = []string{"sunucu dinliyor", "Redis'e bağlandı"}

// errStopped, kümenin hazır olmadan Ctrl+C ile durdurulduğunu söyler.
var errStopped = errors.New("durduruldu")

func main() {
	os.Exit(realMain())
}

func realMain() int {
	flag.Usage = func() {
		fmt.Fprint(flag.CommandLine.Output(), `Kullanım: go run ./scripts/cluster [-ports 3001,3002,3003]

Son adımın sohbetini bir redis-server ve ona bağlı, her biri kendi
portunda birkaç sohbet süreciyle çalıştırır. Ctrl+C hepsini durdurur.

  -ports LİSTE
        sohbet süreçlerinin portları, virgülle ayrılmış
        (varsayılan 3001,3002,3003)
`)
	}
	portList := flag.String("ports", "3001,3002,3003", "sohbet süreçlerinin portları, virgülle ayrılmış")
	flag.Parse()
	ports, err := parsePorts(*portList)
	if err != nil {
		say("-ports: %v", err)
		return 2
	}
	k := &cluster{sigs: make(chan os.Signal, 1), exited: make(chan *child, len(ports)+1)}
	signal.Notify(k.sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer k.stop()
	if err := k.run(ports); err != nil && err != errStopped {
		say("%v", err)
		return 1
	}
	return 0
}

// parsePorts, "3001,3002,3003" gibi bir listeyi okur.
func parsePorts(s string) ([]int, error) {
	var ports []int
	for _, f := range strings.Split(s, ",") {
		p, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || p < 1 || p > 65535 {
			return nil, fmt.Errorf("%q bir port değil; 1 ile 65535 arasında bir sayı olmalı", f)
		}
		if slices.Contains(ports, p) {
			return nil, fmt.Errorf("%d iki kez yazılmış", p)
		}
		ports = append(ports, p)
	}
	return ports, nil
}

// say, kümenin kendi iletisini, süreçlerin satırları gibi başında adıyla,
// standart hataya yazar.
func say(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "[küme] "+format+"\n", args...)
}

// cluster, başlatılan süreçleri ve onları durdurmak için gerekenleri
// tutar.
type cluster struct {
	dir    string         // geçici klasör: derlenen program, veritabanı
	redis  *child         // redis-server
	chats  []*child       // sohbet süreçleri
	exited chan *child    // biten her süreç buraya bir kez gelir
	sigs   chan os.Signal // Ctrl+C, SIGTERM, SIGHUP
}

// run, kümeyi kurar ve bir sinyal gelene ya da bir süreç beklenmedik
// biçimde bitene dek bekler. Süreçleri durdurmak stop'un işidir.
func (k *cluster) run(ports []int) error {
	redisServer, err := exec.LookPath("redis-server")
	if err != nil {
		return errors.New("redis-server bulunamadı; küme için Redis gerekir. Kurup yeniden deneyin:\n" +
			"  Debian ve Ubuntu: sudo apt-get install redis-server\n" +
			"  macOS:            brew install redis")
	}
	for _, p := range ports {
		// Sohbet süreci bütün arayüzlerde dinler; biz de öyle deneriz.
		ln, err := net.Listen("tcp", ":"+strconv.Itoa(p))
		if err != nil {
			return fmt.Errorf("%d portu kullanımda (açık kalmış bir sohbet olabilir); başka portlar verin, örneğin -ports 4001,4002,4003", p)
		}
		ln.Close()
	}
	root, err := repo.Root()
	if err != nil {
		return err
	}
	step, err := repo.FinalStep(root)
	if err != nil {
		return err
	}
	if k.dir, err = os.MkdirTemp("", "sohbet-kume-"); err != nil {
		return err
	}

	say("steps/%s derleniyor…", step)
	bin := filepath.Join(k.dir, "sohbet")
	build := exec.Command("go", "build", "-o", bin, "./steps/"+step)
	build.Dir, build.Stdout, build.Stderr = root, os.Stderr, os.Stderr
	// Ctrl+C, aynı süreç grubundaki go build'e de gider ve onu durdurur.
	if err := build.Run(); err != nil {
		if len(k.sigs) > 0 {
			return errStopped
		}
		return fmt.Errorf("steps/%s derlenemedi: %v", step, err)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0") // boş bir port
	if err != nil {
		return err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	// Yapılandırma dosyası yok, diske hiçbir şey yazılmaz: her küme boş
	// bir Redis'le başlar ve bilgisayardaki /etc/redis ona karışmaz.
	k.redis, err = k.start("redis", "redis-server", nil, redisServer, "--bind", "127.0.0.1", "--port", strconv.Itoa(port),
		"--save", "", "--appendonly", "no", "--dir", k.dir)
	if err != nil {
		return err
	}
	deadline := time.After(readyTimeout)
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	if err := k.await(k.redis, func() bool { return ping(addr) == nil }, deadline); err != nil {
		return err
	}

	redisURL := fmt.Sprintf("redis://%s/0", addr)
	env := append(os.Environ(), "REDIS_URL="+redisURL)
	if os.Getenv("DATABASE_URL") != "" {
		say("DATABASE_URL verilmiş: süreçler mesajları o PostgreSQL veritabanında paylaşıyor.")
	} else {
		env = append(env, "DATABASE_PATH="+filepath.Join(k.dir, "sohbet.db"))
	}
	// Süreçler birer birer başlar: her biri açılırken veritabanının
	// şemasını denetler, gerekirse kurar; bunu aynı anda yapmasınlar.
	for _, p := range ports {
		name := strconv.Itoa(p)
		c, err := k.start(name, name+" portundaki sohbet süreci", slices.Concat(env, []string{"PORT=" + name}), bin)
		if err != nil {
			return err
		}
		k.chats = append(k.chats, c)
		if err := k.await(c, c.out.ready.Load, deadline); err != nil {
			return err
		}
	}

	fmt.Printf("\nKüme hazır: %d sohbet süreci aynı Redis'e (%s) bağlı.\n", len(k.chats), redisURL)
	fmt.Printf("Şu adresleri ayrı sekmelerde açın:\n\n")
	for _, c := range k.chats {
		fmt.Printf("  http://localhost:%s  (PID %d)\n", c.name, c.cmd.Process.Pid)
	}
	fmt.Printf(`
Bir sekmede yazdığınız mesaj ötekilerde de görünür: her sekme başka bir
sürece bağlı, mesajları süreçten sürece Redis taşıyor.
Bir süreci çökmüş gibi, veda etmeden öldürmeyi deneyin: başka bir
terminalde kill -9 %d yazın. Öteki sekmeler o kullanıcının ayrıldığını
en geç 8 saniyede görür (kalp atışı kesilir). Öteki süreçler çalışmayı
sürdürür.
Redis'ten geçenleri izlemek için: redis-cli -p %d monitor
Ctrl+C hepsini durdurur.
`, k.chats[len(k.chats)-1].cmd.Process.Pid, port)

	for running := len(k.chats); running > 0; running-- {
		select {
		case <-k.sigs:
			return nil
		case c := <-k.exited:
			// Redis giderse küme biter. Bir sohbet süreci biterse
			// (kill, kill -9, bir çöküş) onu söyleriz; ötekiler sohbete
			// devam eder: denemek istediğimiz de budur.
			if c == k.redis {
				return c.failure()
			}
			say("%s durdu (%s); ötekiler çalışıyor.", c.what, c.status())
		}
	}
	say("Bütün sohbet süreçleri durdu.")
	return nil
}

// await, c'nin hazır olduğunu söyleyen ready true dönene dek onu sık sık
// sorar. Bu sırada bir süreç biterse, bir sinyal gelirse ya da deadline
// geçerse hata döndürür.
func (k *cluster) await(c *child, ready func() bool, deadline <-chan time.Time) error {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !ready() {
		select {
		case gone := <-k.exited:
			return gone.failure()
		case <-k.sigs:
			return errStopped
		case <-deadline:
			return fmt.Errorf("%s %v içinde hazır olmadı", c.what, readyTimeout)
		case <-tick.C:
		}
	}
	return nil
}

// stop, önce sohbet süreçlerini, sonra Redis'i durdurur ve geçici klasörü
// siler. Redis en son durur, çünkü kapanan sohbet süreçleri
// kullanıcılarının ayrıldığını öteki süreçlere Redis'le duyurur.
func (k *cluster) stop() {
	if k.dir == "" {
		return
	}
	if k.redis != nil {
		say("Süreçler durduruluyor (beklemeden kapatmak için bir kez daha Ctrl+C)…")
		k.halt(k.chats)
		k.halt([]*child{k.redis})
	}
	if err := os.RemoveAll(k.dir); err != nil {
		say("Geçici klasör silinemedi: %v", err)
		return
	}
	say("Hepsi durdu; geçici klasör silindi.")
}

// halt, süreçlere SIGTERM gönderir ve bitmelerini bekler; stopTimeout
// geçerse ya da bir sinyal daha gelirse hepsini öldürür.
func (k *cluster) halt(cs []*child) {
	for _, c := range cs {
		_ = c.cmd.Process.Signal(syscall.SIGTERM)
	}
	timeout := time.NewTimer(stopTimeout)
	defer timeout.Stop()
	for _, c := range cs {
		select {
		case <-c.done:
			continue
		case <-timeout.C:
		case <-k.sigs:
		}
		say("Kapanmayan süreçler öldürülüyor.")
		for _, c := range cs {
			_ = c.cmd.Process.Kill()
		}
		break
	}
	for _, c := range cs {
		<-c.done
	}
}

// child, kümenin başlattığı bir süreçtir.
type child struct {
	name string // günlük satırlarının başına yazılan ad
	what string // iletilerdeki adı, örneğin "3001 portundaki sohbet süreci"
	cmd  *exec.Cmd
	out  *prefixer
	done chan struct{} // süreç bitince kapanır
	err  error         // cmd.Wait'in sonucu; done kapandıktan sonra okunur
}

// start, programı geçici klasörde env ortamıyla (nil ise bizimkiyle)
// başlatır. Süreç bitince kendini k.exited'a gönderir.
func (k *cluster) start(name, what string, env []string, program string, args ...string) (*child, error) {
	c := &child{name: name, what: what, out: &prefixer{name: name, seen: map[string]bool{}}, done: make(chan struct{})}
	c.cmd = exec.Command(program, args...)
	c.cmd.Dir, c.cmd.Env = k.dir, env
	// Aynı yazar iki akışa da verilince Write'ı tek bir goroutine çağırır.
	c.cmd.Stdout, c.cmd.Stderr = c.out, c.out
	c.cmd.SysProcAttr = childAttr()
	if err := c.cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s başlatılamadı: %v", what, err)
	}
	go func() {
		c.err = c.cmd.Wait()
		close(c.done)
		k.exited <- c
	}()
	return c, nil
}

// status, sürecin nasıl bittiğini söyler: "çıkış kodu 0" ya da bir
// sinyalle öldüyse, örneğin "signal: killed".
func (c *child) status() string {
	st := c.cmd.ProcessState
	if st.ExitCode() >= 0 {
		return fmt.Sprintf("çıkış kodu %d", st.ExitCode())
	}
	return st.String()
}

// failure, sürecin beklenmedik bitişini anlatır.
func (c *child) failure() error {
	return fmt.Errorf("%s beklenmedik biçimde durdu (%s); küme kapatılıyor", c.what, c.status())
}

// prefixer, bir sürecin çıktısını satır satır, başına sürecin adını
// koyarak standart hataya yazar. readyLines'ın hepsini görünce ready olur.
type prefixer struct {
	name  string
	buf   []byte
	seen  map[string]bool // readyLines'tan görülenler
	ready atomic.Bool
}

// Write, io.Writer'dır.
func (p *prefixer) Write(b []byte) (int, error) {
	p.buf = append(p.buf, b...)
	for {
		line, rest, ok := bytes.Cut(p.buf, []byte("\n"))
		if !ok {
			return len(b), nil
		}
		p.buf = rest
		fmt.Fprintf(os.Stderr, "[%s] %s\n", p.name, line)
		for _, s := range readyLines {
			if bytes.Contains(line, []byte(s)) {
				p.seen[s] = true
			}
		}
		p.ready.Store(len(p.seen) == len(readyLines))
	}
}

// ping, addr'deki Redis'e PING gönderir ve PONG bekler.
func ping(addr string) error {
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(time.Second))
	if _, err := conn.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err == nil && line != "+PONG\r\n" {
		err = fmt.Errorf("PING'e %q yanıtı geldi", line)
	}
	return err
}
