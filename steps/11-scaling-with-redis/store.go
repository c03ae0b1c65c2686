package main

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
)

// message, herkese giden ve saklanan bir sohbet mesajıdır; "chat message"
// olayının verisi de budur. Kimliği veritabanı verir. ClientOffset,
// gönderen sayfanın mesaja verdiği rastgele kimliktir (önceki adımların
// istemcilerinde boş): sayfa kendi mesajını yayında onunla tanır.
type message struct {
	ID           int64  `json:"id"`
	From         string `json:"from"`
	Text         string `json:"text"`
	At           int64  `json:"at"` // Unix zamanı, milisaniye
	ClientOffset string `json:"clientOffset,omitempty"`
}

// store, mesajların kalıcı kaydıdır. İki gerçekleştirmesi var:
// sqliteStore (varsayılan, kurulum istemez) ve postgresStore (DATABASE_URL
// verilince; Heroku Postgres bunu verir). İkisi de aynı test takımından
// geçer (store_test.go).
type store interface {
	// append, mesajı saklar ve ona verilen kimliği döndürür. Kimlikler
	// kesin artar ve silinen bir kimlik bir daha verilmez. Kimlik sırası
	// kayıt sırasıdır, süreçler arasında da: N görünür olduğunda N'den
	// küçük her kimlik ya kaydedilmiştir ya hiç kaydedilmeyecektir. Aynı
	// ClientOffset'le saklanmış bir mesaj varsa yenisini saklamaz, onun
	// kimliğini ve stored=false döndürür.
	append(ctx context.Context, m message) (id int64, stored bool, err error)
	// lookup, clientOffset'le saklanmış mesajın kimliğini döndürür.
	lookup(ctx context.Context, clientOffset string) (id int64, found bool, err error)
	// replay, kimliği after'dan büyük ve upto'dan küçük ya da eşit
	// mesajların en yeni limit tanesini eskiden yeniye döndürür; skipped,
	// sınır yüzünden dışarıda kalan (daha eski) mesaj sayısıdır.
	replay(ctx context.Context, after, upto int64, limit int) (msgs []message, skipped int, err error)
	// lastID, saklanan en büyük kimliktir (hiç mesaj yoksa 0).
	lastID(ctx context.Context) (int64, error)
	// trim, en yeni keep mesaj dışındakileri küçük parçalar hâlinde siler
	// ve kaç mesaj sildiğini döndürür.
	trim(ctx context.Context, keep int) (int64, error)
	// ping, veritabanına ulaşılıp ulaşılamadığını söyler.
	ping(ctx context.Context) error
	close()
}

// trimBatch, trim'in bir seferde sildiği en çok mesajdır. Büyük bir
// silme, SQLite'ta süren yazmaları bekletebilir; küçük parçalar bekletmez.
const trimBatch = 500

// openStore, ayarlara göre mesaj kaydını açar ve şemayı kurar:
// DATABASE_URL verilmişse PostgreSQL, değilse DATABASE_PATH'teki SQLite
// dosyası.
func openStore(ctx context.Context, cfg config) (store, error) {
	if cfg.databaseURL != "" {
		return openPostgres(ctx, cfg.databaseURL)
	}
	return openSQLite(ctx, cfg.databasePath)
}

// migrationFiles, şemayı kuran SQL dosyalarıdır; program onları ikili
// dosyasına gömer ve başlarken sırayla, her birini bir kez uygular.
//
//go:embed migrations
var migrationFiles embed.FS

// migration, sürüm numarasıyla bir şema değişikliğidir.
type migration struct {
	version int
	name    string
	sql     string
}

// migrations, dialect ("sqlite" ya da "postgres") klasöründeki dosyaları
// sürüm sırasıyla döndürür. Dosya adları "001_ad.sql" biçimindedir.
func migrations(dialect string) ([]migration, error) {
	dir := path.Join("migrations", dialect)
	entries, err := fs.ReadDir(migrationFiles, dir)
	if err != nil {
		return nil, err
	}
	var out []migration
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || !strings.HasSuffix(e.Name(), ".sql") {
			return nil, fmt.Errorf("şema dosyası %s: ad 001_ad.sql biçiminde olmalı", e.Name())
		}
		b, err := fs.ReadFile(migrationFiles, path.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: v, name: e.Name(), sql: string(b)})
	}
	slices.SortFunc(out, func(a, b migration) int { return a.version - b.version })
	return out, nil
}
