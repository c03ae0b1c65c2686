package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"time"

	"modernc.org/sqlite" // saf Go SQLite sürücüsü: C derleyicisi gerekmez
	sqlite3 "modernc.org/sqlite/lib"
)

// sqliteStore, mesajları tek bir SQLite dosyasında saklar. Kurulum
// istemez; ama dosya makinenin diskindedir: Heroku'da her yeniden
// başlatmada silinir ve birden çok makine aynı dosyayı paylaşamaz.
type sqliteStore struct {
	db *sql.DB
}

// openSQLite, dosyayı açar (yoksa oluşturur) ve şemayı kurar. WAL kipi
// okuyanların yazanı beklemesini önler; synchronous=NORMAL, WAL'da
// programın çökmesine karşı güvenlidir (elektrik kesintisinde son
// işlemler gidebilir). busy_timeout, başka bir yazma sürerken beklemeyi
// hata vermeye yeğler; ötekilerden önce gelir ki WAL'a geçiş de beklesin.
//
// Aynı dosyayı birden çok süreç açabilir (aynı makinedeki bir küme).
// _txlock=immediate, her işlemi yazma kilidini alarak başlatır: iki süreç
// şemayı aynı anda kurmaya kalkarsa biri ötekini bekler. Kilitsiz
// başlayan iki işlem önce okuyup sonra yazmak isteyince SQLite birini
// beklemeden "database is locked" ile düşürür.
func openSQLite(ctx context.Context, file string) (*sqliteStore, error) {
	q := url.Values{}
	for _, p := range []string{"busy_timeout(5000)", "journal_mode(WAL)", "synchronous(NORMAL)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	for attempt := 1; ; attempt++ {
		db, err := sql.Open("sqlite", "file:"+file+"?"+q.Encode())
		if err != nil {
			return nil, err
		}
		s := &sqliteStore{db: db}
		err = s.migrate(ctx)
		if err == nil {
			return s, nil
		}
		db.Close()
		// Yeni bir dosyayı aynı anda açan iki süreçten biri WAL'a
		// geçerken SQLite'tan beklemeden "database is locked" alabilir
		// (iki taraf birbirini bekleyip kilitlenmesin diye). Biraz
		// bekleyip yeniden deneriz.
		var e *sqlite.Error
		if !errors.As(err, &e) || e.Code()&0xff != sqlite3.SQLITE_BUSY || attempt == 10 {
			return nil, fmt.Errorf("SQLite (%s): %w", file, err)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("SQLite (%s): %w", file, err)
		case <-time.After(time.Duration(attempt) * 20 * time.Millisecond):
		}
	}
}

// migrate, henüz uygulanmamış şema dosyalarını sırayla, her birini tek bir
// işlemde (transaction) uygular. İki kez çağırmak zararsızdır.
func (s *sqliteStore) migrate(ctx context.Context) error {
	ms, err := migrations("sqlite")
	if err != nil {
		return err
	}
	if _, err := s.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY)`); err != nil {
		return err
	}
	for _, m := range ms {
		tx, err := s.db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		var done int
		err = tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE version = ?`, m.version).Scan(&done)
		if err == nil && done == 0 {
			if _, err = tx.ExecContext(ctx, m.sql); err == nil {
				_, err = tx.ExecContext(ctx, `INSERT INTO schema_migrations (version) VALUES (?)`, m.version)
			}
		}
		if err != nil {
			tx.Rollback()
			return fmt.Errorf("%s: %w", m.name, err)
		}
		if err := tx.Commit(); err != nil {
			return err
		}
	}
	return nil
}

func (s *sqliteStore) append(ctx context.Context, m message) (int64, bool, error) {
	// SQLite'ta aynı anda tek bir yazma olur (aynı makinedeki birden çok
	// süreçte de): kimlik sırası kendiliğinden kayıt sırasıdır.
	//
	// ON CONFLICT DO NOTHING: aynı clientOffset zaten varsa satır eklenmez
	// ve RETURNING bir şey döndürmez. NULLIF, boş kimliği NULL yapar.
	var id int64
	err := s.db.QueryRowContext(ctx,
		`INSERT INTO messages (nick, text, sent_at, client_offset) VALUES (?, ?, ?, NULLIF(?, ''))
		 ON CONFLICT (client_offset) DO NOTHING RETURNING id`,
		m.From, m.Text, m.At, m.ClientOffset).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		id, _, err = s.lookup(ctx, m.ClientOffset)
		return id, false, err
	}
	return id, err == nil, err
}

func (s *sqliteStore) lookup(ctx context.Context, clientOffset string) (int64, bool, error) {
	var id int64
	err := s.db.QueryRowContext(ctx, `SELECT id FROM messages WHERE client_offset = ?`, clientOffset).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	return id, err == nil, err
}

func (s *sqliteStore) replay(ctx context.Context, after, upto int64, limit int) ([]message, int, error) {
	rows, err := s.db.QueryContext(ctx, `
		SELECT id, nick, text, sent_at, client_offset FROM (
			SELECT id, nick, text, sent_at, COALESCE(client_offset, '') AS client_offset FROM messages
			WHERE id > ? AND id <= ? ORDER BY id DESC LIMIT ?
		) ORDER BY id`, after, upto, limit)
	if err != nil {
		return nil, 0, err
	}
	msgs, err := scanMessages(rows)
	if err != nil || len(msgs) < limit {
		return msgs, 0, err
	}
	var total int
	err = s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM messages WHERE id > ? AND id <= ?`, after, upto).Scan(&total)
	return msgs, total - len(msgs), err
}

func (s *sqliteStore) lastID(ctx context.Context) (int64, error) {
	var id int64
	err := s.db.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM messages`).Scan(&id)
	return id, err
}

func (s *sqliteStore) trim(ctx context.Context, keep int) (int64, error) {
	var deleted int64
	for {
		res, err := s.db.ExecContext(ctx, `
			DELETE FROM messages WHERE id IN (
				SELECT id FROM messages WHERE id <= (
					SELECT id FROM messages ORDER BY id DESC LIMIT 1 OFFSET ?
				) ORDER BY id LIMIT ?
			)`, keep, trimBatch)
		if err != nil {
			return deleted, err
		}
		n, _ := res.RowsAffected()
		deleted += n
		if n < trimBatch {
			return deleted, nil
		}
	}
}

func (s *sqliteStore) ping(ctx context.Context) error {
	_, err := s.lastID(ctx) // dosyaya ve tabloya ulaşılıyor mu?
	return err
}

func (s *sqliteStore) close() { s.db.Close() }

// scanMessages, satırları mesajlara çevirir ve satırları kapatır.
func scanMessages(rows *sql.Rows) ([]message, error) {
	defer rows.Close()
	var msgs []message
	for rows.Next() {
		var m message
		if err := rows.Scan(&m.ID, &m.From, &m.Text, &m.At, &m.ClientOffset); err != nil {
			return nil, err
		}
		msgs = append(msgs, m)
	}
	return msgs, rows.Err()
}
