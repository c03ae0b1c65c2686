package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// postgresStore, mesajları bir PostgreSQL veritabanında saklar (Heroku
// Postgres). Veritabanı ayrı bir sunucudur: dyno yeniden başlasa da
// mesajlar kalır ve birden çok süreç aynı veritabanını paylaşabilir.
type postgresStore struct {
	pool *pgxpool.Pool
}

// maxPoolConns, havuzun en çok bağlantısıdır. Heroku'nun en küçük
// Postgres planı 20 bağlantıya izin verir; birkaç dyno ve bir psql
// oturumu için yer kalsın.
const maxPoolConns = 5

// openPostgres, databaseURL'deki veritabanına bağlanır ve şemayı kurar.
// Adres sslmode belirtmiyorsa ve sunucu bu makine değilse TLS zorunlu
// tutulur: Heroku Postgres şifresiz bağlantıyı kabul etmez, parolanın da
// ağda açık gitmemesi gerekir.
func openPostgres(ctx context.Context, databaseURL string) (*postgresStore, error) {
	cfg, err := pgxpool.ParseConfig(requireTLS(databaseURL))
	if err != nil {
		return nil, fmt.Errorf("DATABASE_URL okunamadı: %w", err)
	}
	cfg.MaxConns = maxPoolConns
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	s := &postgresStore{pool: pool}
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("PostgreSQL (%s): %w", cfg.ConnConfig.Host, err)
	}
	return s, nil
}

// requireTLS, sslmode'u olmayan ve yerel olmayan bir adrese
// sslmode=require ekler.
func requireTLS(databaseURL string) string {
	u, err := url.Parse(databaseURL)
	if err != nil || u.Query().Has("sslmode") {
		return databaseURL
	}
	switch u.Hostname() {
	case "", "localhost", "127.0.0.1", "::1":
		return databaseURL
	}
	q := u.Query()
	q.Set("sslmode", "require")
	u.RawQuery = q.Encode()
	return u.String()
}

// migrate, henüz uygulanmamış şema dosyalarını sırayla, her birini tek bir
// işlemde uygular. Birden çok süreç aynı anda başlarsa, işlem başındaki
// kilit (pg_advisory_xact_lock) onları sıraya koyar.
func (s *postgresStore) migrate(ctx context.Context) error {
	ms, err := migrations("postgres")
	if err != nil {
		return err
	}
	for _, m := range ms {
		err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(20261202)`); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY)`); err != nil {
				return err
			}
			var done bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = $1)`, m.version).Scan(&done); err != nil || done {
				return err
			}
			if _, err := tx.Exec(ctx, m.sql); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version) VALUES ($1)`, m.version)
			return err
		})
		if err != nil {
			return fmt.Errorf("%s: %w", m.name, err)
		}
	}
	return nil
}

// appendLock, mesaj eklemeyi bütün süreçlerde sıraya koyan danışma
// kilidinin (advisory lock) numarasıdır.
const appendLock = 20261203

func (s *postgresStore) append(ctx context.Context, m message) (int64, bool, error) {
	// ON CONFLICT DO NOTHING: aynı clientOffset zaten varsa satır eklenmez
	// ve RETURNING bir şey döndürmez. NULLIF, boş kimliği NULL yapar.
	//
	// Kimlik sırası kayıt sırası olsun diye kilit: kilitsiz iki süreç 7 ve
	// 8'i alabilir, 8 önce kaydedilir; 8'i gören biri 7'nin "hiç olmadı"
	// mı yoksa "henüz olmadı" mı olduğunu bilemez. Kilidi WITH alır, satır
	// ondan sonra kimliğini alır; kilit işlem bitince (kayıt görünür
	// olduktan sonra) bırakılır. Bedeli: eklemeler bütün süreçlerde tek
	// sıradan geçer (docs/08-yuk-testi.md).
	var id int64
	err := s.pool.QueryRow(ctx,
		`WITH lock AS (SELECT pg_advisory_xact_lock($5))
		 INSERT INTO messages (nick, text, sent_at, client_offset)
		 SELECT $1::text, $2::text, $3::bigint, NULLIF($4::text, '') FROM lock
		 ON CONFLICT (client_offset) DO NOTHING RETURNING id`,
		m.From, m.Text, m.At, m.ClientOffset, appendLock).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		id, _, err = s.lookup(ctx, m.ClientOffset)
		return id, false, err
	}
	return id, err == nil, err
}

func (s *postgresStore) lookup(ctx context.Context, clientOffset string) (int64, bool, error) {
	var id int64
	err := s.pool.QueryRow(ctx, `SELECT id FROM messages WHERE client_offset = $1`, clientOffset).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, false, nil
	}
	return id, err == nil, err
}

func (s *postgresStore) replay(ctx context.Context, after, upto int64, limit int) ([]message, int, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT id, nick, text, sent_at, client_offset FROM (
			SELECT id, nick, text, sent_at, COALESCE(client_offset, '') AS client_offset FROM messages
			WHERE id > $1 AND id <= $2 ORDER BY id DESC LIMIT $3
		) AS latest ORDER BY id`, after, upto, limit)
	if err != nil {
		return nil, 0, err
	}
	msgs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (message, error) {
		var m message
		err := r.Scan(&m.ID, &m.From, &m.Text, &m.At, &m.ClientOffset)
		return m, err
	})
	if err != nil || len(msgs) < limit {
		return msgs, 0, err
	}
	var total int
	err = s.pool.QueryRow(ctx, `SELECT COUNT(*) FROM messages WHERE id > $1 AND id <= $2`, after, upto).Scan(&total)
	return msgs, total - len(msgs), err
}

func (s *postgresStore) lastID(ctx context.Context) (int64, error) {
	var id int64
	err := s.pool.QueryRow(ctx, `SELECT COALESCE(MAX(id), 0) FROM messages`).Scan(&id)
	return id, err
}

func (s *postgresStore) trim(ctx context.Context, keep int) (int64, error) {
	var deleted int64
	for {
		tag, err := s.pool.Exec(ctx, `
			DELETE FROM messages WHERE id IN (
				SELECT id FROM messages WHERE id <= (
					SELECT id FROM messages ORDER BY id DESC LIMIT 1 OFFSET $1
				) ORDER BY id LIMIT $2
			)`, keep, trimBatch)
		if err != nil {
			return deleted, err
		}
		deleted += tag.RowsAffected()
		if tag.RowsAffected() < trimBatch {
			return deleted, nil
		}
	}
}

func (s *postgresStore) ping(ctx context.Context) error { return s.pool.Ping(ctx) }

func (s *postgresStore) close() { s.pool.Close() }
