package main

// One test suite for both stores: SQLite always, PostgreSQL on a
// throwaway server of the test's own (skipped with a message when
// PostgreSQL is not installed, failed under CI=true).

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"sohbet/internal/chattest"
)

// storeKinds opens a fresh, empty store of each kind.
var storeKinds = []struct {
	name string
	open func(t *testing.T) (store, config)
}{
	{"sqlite", func(t *testing.T) (store, config) {
		cfg := defaults(t)
		return openTestStore(t, cfg), cfg
	}},
	{"postgres", func(t *testing.T) (store, config) {
		cfg := defaults(t)
		cfg.databaseURL = chattest.StartPostgres(t).URL
		return openTestStore(t, cfg), cfg
	}},
}

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func appendN(t *testing.T, st store, n int, prefix string) []int64 {
	t.Helper()
	ids := make([]int64, n)
	for i := range ids {
		id, stored, err := st.append(ctxFor(t), message{From: "Ali", Text: fmt.Sprintf("%s %d", prefix, i), At: int64(1000 + i)})
		if err != nil || !stored {
			t.Fatalf("append: stored %v, %v", stored, err)
		}
		ids[i] = id
	}
	return ids
}

func texts(msgs []message) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = m.Text
	}
	return out
}

func TestStore(t *testing.T) {
	for _, kind := range storeKinds {
		t.Run(kind.name, func(t *testing.T) {
			st, cfg := kind.open(t)
			ctx := ctxFor(t)

			t.Run("ids increase and lastID follows", func(t *testing.T) {
				if id, err := st.lastID(ctx); err != nil || id != 0 {
					t.Fatalf("empty store lastID = %d, %v", id, err)
				}
				ids := appendN(t, st, 5, "ilk")
				if !slices.IsSorted(ids) || slices.Compact(slices.Clone(ids))[4] != ids[4] {
					t.Fatalf("ids %v do not increase", ids)
				}
				if id, _ := st.lastID(ctx); id != ids[4] {
					t.Fatalf("lastID = %d, want %d", id, ids[4])
				}
			})

			t.Run("replay gives what came after, in order, within a window", func(t *testing.T) {
				last, _ := st.lastID(ctx)
				ids := appendN(t, st, 10, "ikinci")
				got, skipped, err := st.replay(ctx, last, ids[9], 100)
				if err != nil || skipped != 0 || !slices.Equal(texts(got), texts(fill("ikinci", 0, 10))) {
					t.Fatalf("replay after %d = %q, skipped %d, %v", last, texts(got), skipped, err)
				}
				// upto excludes what came later; limit keeps the newest.
				got, skipped, err = st.replay(ctx, last, ids[7], 3)
				if err != nil || skipped != 5 || !slices.Equal(texts(got), texts(fill("ikinci", 5, 8))) {
					t.Fatalf("replay up to %d, limit 3 = %q, skipped %d, %v", ids[7], texts(got), skipped, err)
				}
				if got[0].From != "Ali" || got[0].At != 1005 || got[0].ID != ids[5] {
					t.Fatalf("a replayed message lost a field: %+v", got[0])
				}
				if got, _, _ := st.replay(ctx, ids[9], ids[9], 10); len(got) != 0 {
					t.Fatalf("replay after the last id = %q", texts(got))
				}
			})

			t.Run("a client offset is stored once", func(t *testing.T) {
				first, stored, err := st.append(ctx, message{From: "Ali", Text: "bir kez", ClientOffset: "sayfa-1"})
				if err != nil || !stored {
					t.Fatalf("first append: stored %v, %v", stored, err)
				}
				// The same offset again, even with another text: not stored,
				// the first id back.
				again, stored, err := st.append(ctx, message{From: "Ali", Text: "yeniden", ClientOffset: "sayfa-1"})
				if err != nil || stored || again != first {
					t.Fatalf("second append = %d, stored %v, %v; want %d, false", again, stored, err, first)
				}
				if id, found, err := st.lookup(ctx, "sayfa-1"); err != nil || !found || id != first {
					t.Fatalf("lookup = %d, %v, %v; want %d", id, found, err, first)
				}
				if _, found, err := st.lookup(ctx, "sayfa-2"); err != nil || found {
					t.Fatalf("lookup of an unknown offset: found %v, %v", found, err)
				}
				// Messages without an offset never collide with each other.
				ids := appendN(t, st, 3, "kimliksiz")
				got, _, err := st.replay(ctx, first-1, ids[2], 10)
				if err != nil || len(got) != 4 || got[0].ClientOffset != "sayfa-1" || got[0].Text != "bir kez" || got[1].ClientOffset != "" {
					t.Fatalf("replay = %+v, %v", got, err)
				}
			})

			t.Run("attempts of one message at once store it once", func(t *testing.T) {
				const attempts = 16
				ids := make([]int64, attempts)
				storedBy := make([]bool, attempts)
				var wg sync.WaitGroup
				for i := range attempts {
					wg.Go(func() {
						var err error
						ids[i], storedBy[i], err = st.append(ctx, message{From: "Ali", Text: "aynı anda", ClientOffset: "yarış"})
						if err != nil {
							t.Error(err)
						}
					})
				}
				wg.Wait()
				if n := len(slices.DeleteFunc(slices.Clone(storedBy), func(b bool) bool { return !b })); n != 1 {
					t.Fatalf("%d of %d attempts stored the message, want 1", n, attempts)
				}
				if slices.Min(ids) != slices.Max(ids) {
					t.Fatalf("attempts got different ids %v", ids)
				}
			})

			t.Run("text that looks like SQL is stored as it is", func(t *testing.T) {
				tricky := []string{
					`'); DROP TABLE messages; --`,
					`Robert'); DELETE FROM messages WHERE ('1'='1`,
					`$1 ? :name @x "quoted" \ %`,
					"ağaç 🙂 İı Şş\tsonu\n",
				}
				last, _ := st.lastID(ctx)
				for _, text := range tricky {
					if _, _, err := st.append(ctx, message{From: "O'Brien", Text: text}); err != nil {
						t.Fatalf("append %q: %v", text, err)
					}
				}
				got, _, err := st.replay(ctx, last, last+100, 100)
				if err != nil || !slices.Equal(texts(got), tricky) || got[0].From != "O'Brien" {
					t.Fatalf("got %q, %v", texts(got), err)
				}
			})

			t.Run("trim keeps the newest and ids are never reused", func(t *testing.T) {
				appendN(t, st, 30, "üçüncü")
				before, _ := st.lastID(ctx)
				n, err := st.trim(ctx, 7)
				if err != nil || n == 0 {
					t.Fatalf("trim = %d, %v", n, err)
				}
				got, skipped, err := st.replay(ctx, 0, before, 1000)
				if err != nil || len(got) != 7 || skipped != 0 || got[6].ID != before {
					t.Fatalf("after trim: %d messages (last %v), %v", len(got), got, err)
				}
				ids := appendN(t, st, 1, "dördüncü")
				if ids[0] <= before {
					t.Fatalf("id %d after trim, want more than %d", ids[0], before)
				}
			})

			t.Run("ids become visible in id order, across processes", func(t *testing.T) {
				// Two stores on one database stand for two processes. While
				// four writers append, a reader takes snapshots: an id at or
				// below a snapshot's highest that shows up only later would
				// be a message "from the past", which the cluster would have
				// skipped as a hole (catchUp).
				base, _ := st.lastID(ctx)
				other := openTestStore(t, cfg)
				const writers, each = 4, 100
				var wg sync.WaitGroup
				for w := range writers {
					wg.Go(func() {
						on := []store{st, other}[w%2]
						for i := range each {
							if _, _, err := on.append(ctx, message{From: "Ali", Text: fmt.Sprintf("yazar %d mesaj %d", w, i)}); err != nil {
								t.Error(err)
								return
							}
						}
					})
				}
				done := make(chan struct{})
				go func() { wg.Wait(); close(done) }()
				seen := map[int64]bool{}
				var highest int64
				var late []string
				for finished := false; !finished; {
					select {
					case <-done:
						finished = true // one last snapshot
					default:
					}
					msgs, _, err := st.replay(ctx, base, math.MaxInt64, writers*each)
					if err != nil {
						<-done
						t.Fatal(err)
					}
					for _, m := range msgs {
						if !seen[m.ID] && m.ID <= highest {
							late = append(late, fmt.Sprintf("%d after %d", m.ID, highest))
						}
						seen[m.ID] = true
					}
					if len(msgs) > 0 {
						highest = msgs[len(msgs)-1].ID
					}
				}
				if len(late) > 0 {
					t.Fatalf("%d ids became visible after a higher one had been: %v", len(late), late)
				}
				if len(seen) != writers*each {
					t.Fatalf("%d messages stored, want %d", len(seen), writers*each)
				}
			})

			t.Run("opening again keeps everything and migrates nothing twice", func(t *testing.T) {
				last, _ := st.lastID(ctx)
				again := openTestStore(t, cfg)
				if id, err := again.lastID(ctx); err != nil || id != last {
					t.Fatalf("reopened lastID = %d, %v; want %d", id, err, last)
				}
				if err := again.ping(ctx); err != nil {
					t.Fatal(err)
				}
			})
		})
	}
}

// fill returns the messages "prefix i" for i in [from, to).
func fill(prefix string, from, to int) []message {
	var out []message
	for i := from; i < to; i++ {
		out = append(out, message{Text: fmt.Sprintf("%s %d", prefix, i)})
	}
	return out
}

func TestSQLiteFileIsWhereDatabasePathSays(t *testing.T) {
	dir := t.TempDir()
	cfg, err := loadConfig(func(k string) string {
		return map[string]string{"DATABASE_PATH": filepath.Join(dir, "baska.db")}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	st := openTestStore(t, cfg)
	if _, _, err := st.append(ctxFor(t), message{From: "a", Text: "b"}); err != nil {
		t.Fatal(err)
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "baska.db*")); len(m) == 0 {
		t.Fatal("no database file where DATABASE_PATH says")
	}
}

func TestRequireTLSForRemotePostgres(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://u:p@ec2-1-2-3-4.compute.amazonaws.com:5432/db": "postgres://u:p@ec2-1-2-3-4.compute.amazonaws.com:5432/db?sslmode=require",
		"postgres://u@127.0.0.1:5432/db":                           "postgres://u@127.0.0.1:5432/db",
		"postgres://u@localhost/db":                                "postgres://u@localhost/db",
		"postgres://u@db.example/db?sslmode=verify-full":           "postgres://u@db.example/db?sslmode=verify-full",
		"postgres://u@db.example/db?sslmode=disable":               "postgres://u@db.example/db?sslmode=disable",
		"postgres://u@db.example/db?application_name=sohbet":       "postgres://u@db.example/db?application_name=sohbet&sslmode=require",
	} {
		if got := requireTLS(in); got != want {
			t.Errorf("requireTLS(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestADatabaseOfTheLastStepIsUpgradedInPlace: a database that step 09
// created (migration 001 only) gets the client_offset column when step 10
// opens it, and keeps every message.
func TestADatabaseOfTheLastStepIsUpgradedInPlace(t *testing.T) {
	for _, kind := range []string{"sqlite", "postgres"} {
		t.Run(kind, func(t *testing.T) {
			cfg := defaults(t)
			if kind == "postgres" {
				cfg.databaseURL = chattest.StartPostgres(t).URL
			}
			ctx := ctxFor(t)
			// Step 09's schema, as its migrate left it.
			ms, err := migrations(kind)
			if err != nil || len(ms) < 2 || ms[0].version != 1 {
				t.Fatalf("migrations(%s) = %v, %v", kind, ms, err)
			}
			exec := openRaw(t, cfg)
			for _, q := range []string{
				`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY)`,
				ms[0].sql,
				`INSERT INTO schema_migrations (version) VALUES (1)`,
				`INSERT INTO messages (nick, text, sent_at) VALUES ('Ali', 'adım 09''dan kalan', 1)`,
			} {
				if err := exec(ctx, q); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			st := openTestStore(t, cfg)
			got, _, err := st.replay(ctx, 0, 100, 10)
			if err != nil || len(got) != 1 || got[0].Text != "adım 09'dan kalan" {
				t.Fatalf("after the upgrade: %+v, %v", got, err)
			}
			id, stored, err := st.append(ctx, message{From: "Ali", Text: "adım 10", ClientOffset: "k-1"})
			if err != nil || !stored || id <= got[0].ID {
				t.Fatalf("append after the upgrade = %d, %v, %v", id, stored, err)
			}
			if _, stored, _ := st.append(ctx, message{From: "Ali", Text: "adım 10", ClientOffset: "k-1"}); stored {
				t.Fatal("the upgraded database stored one client offset twice")
			}
		})
	}
}

// openRaw opens cfg's database without the store (no migrations) and
// returns a function that runs one SQL statement on it.
func openRaw(t *testing.T, cfg config) func(context.Context, string) error {
	t.Helper()
	if cfg.databaseURL != "" {
		conn, err := pgx.Connect(ctxFor(t), cfg.databaseURL)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = conn.Close(context.Background()) })
		return func(ctx context.Context, q string) error {
			_, err := conn.Exec(ctx, q)
			return err
		}
	}
	db, err := sql.Open("sqlite", cfg.databasePath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return func(ctx context.Context, q string) error {
		_, err := db.ExecContext(ctx, q)
		return err
	}
}

// TestProcessesOpeningOneNewSQLiteFileAtOnce: several processes of a
// cluster on one machine start together on a new file; each migrates or
// finds the schema done, none fails with "database is locked".
func TestProcessesOpeningOneNewSQLiteFileAtOnce(t *testing.T) {
	for round := range 10 {
		cfg := defaults(t)
		var wg sync.WaitGroup
		errs := make(chan error, 4)
		for range 4 {
			wg.Go(func() {
				st, err := openStore(ctxFor(t), cfg)
				if err != nil {
					errs <- err
					return
				}
				st.close()
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatalf("round %d: %v", round, err)
		}
	}
}
