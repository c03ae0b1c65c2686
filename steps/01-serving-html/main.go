// Adım 01: sohbet sayfasını net/http ile sunmak.
//
// Bu adımda sunucu yalnızca tek bir HTML sayfası gönderir. Sayfa ikili
// dosyanın içine gömülüdür (go:embed), bu yüzden program hangi klasörden
// çalıştırılırsa çalıştırılsın, Heroku'da bile, sayfayı bulur.
package main

import (
	"context"
	_ "embed"
	"errors"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// indexHTML, sohbet sayfasıdır; derleme sırasında ikili dosyaya gömülür.
//
//go:embed index.html
var indexHTML []byte

// shutdownTimeout, kapanırken açık isteklerin bitmesi için beklenen en uzun
// süredir. Heroku, SIGTERM'den 30 saniye sonra süreci zorla öldürür.
const shutdownTimeout = 10 * time.Second

// newServer, sunucunun bütün yollarını bağlayan http.Handler'ı kurar.
// main ile testler aynı işleyiciyi kullanır.
func newServer() http.Handler {
	mux := http.NewServeMux()
	// "GET /{$}" yalnızca kök yolla eşleşir; "/baska" gibi yollar 404 alır.
	// GET kalıbı HEAD isteklerini de kapsar.
	mux.HandleFunc("GET /{$}", serveIndex)
	return mux
}

// serveIndex, gömülü sohbet sayfasını gönderir.
func serveIndex(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write(indexHTML)
}

func main() {
	port := os.Getenv("PORT")
	if port == "" {
		port = "3000"
	}

	// Ctrl+C (SIGINT) ya da Heroku'nun SIGTERM'i gelince ctx iptal olur.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	if err := run(ctx, ":"+port); err != nil {
		log.Fatal(err)
	}
}

// run, sunucuyu addr üzerinde başlatır ve ctx iptal olunca düzgünce kapatır.
func run(ctx context.Context, addr string) error {
	srv := &http.Server{
		Handler:           newServer(),
		ReadHeaderTimeout: 10 * time.Second,
	}

	// Önce portu açıyoruz, sonra "dinliyor" diyoruz: bu satır
	// göründüğünde bağlantılar gerçekten kabul edilir.
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	log.Printf("sunucu dinliyor: http://localhost:%d", ln.Addr().(*net.TCPAddr).Port)

	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()

	select {
	case err := <-serveErr:
		return err
	case <-ctx.Done():
	}

	log.Print("kapanıyor: yeni bağlantı alınmıyor")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return err
	}
	if err := <-serveErr; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	log.Print("sunucu kapandı")
	return nil
}
