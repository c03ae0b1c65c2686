package chattest

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// pgConnect connects to url or fails the test; the connection is closed
// when the test ends.
func pgConnect(ctx context.Context, t *testing.T, url string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("pgx.Connect(%s): %v", url, err)
	}
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	return conn
}

func TestPostgresGoesAwayAndComesBackWithItsData(t *testing.T) {
	t.Parallel()
	start := time.Now()
	pg := StartPostgres(t)
	t.Logf("StartPostgres took %v", time.Since(start).Round(time.Millisecond))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	conn := pgConnect(ctx, t, pg.URL)
	t.Run("the test's database takes a row", func(t *testing.T) {
		var db, fsync string
		if err := conn.QueryRow(ctx, "SELECT current_database(), current_setting('fsync')").Scan(&db, &fsync); err != nil {
			t.Fatal(err)
		}
		if db != pg.Database || fsync != "off" {
			t.Errorf("database %q with fsync=%s, want %q with fsync=off", db, fsync, pg.Database)
		}
		if _, err := conn.Exec(ctx, "CREATE TABLE messages (id serial PRIMARY KEY, body text NOT NULL)"); err != nil {
			t.Fatal(err)
		}
		var body string
		if err := conn.QueryRow(ctx, "INSERT INTO messages (body) VALUES ($1) RETURNING body", "merhaba dünya").Scan(&body); err != nil {
			t.Fatal(err)
		}
		if body != "merhaba dünya" {
			t.Errorf("stored %q, want %q", body, "merhaba dünya")
		}
	})
	t.Run("NewDatabase gives an empty database of its own", func(t *testing.T) {
		other := pgConnect(ctx, t, pg.NewDatabase(t))
		var db string
		var empty bool
		if err := other.QueryRow(ctx, "SELECT current_database(), to_regclass('messages') IS NULL").Scan(&db, &empty); err != nil {
			t.Fatal(err)
		}
		if db == pg.Database || !empty {
			t.Errorf("NewDatabase gave %q (without the table: %v), want a new, empty database", db, empty)
		}
	})
	t.Run("the unix socket is in the server's folder", func(t *testing.T) {
		sock := filepath.Join(pg.Dir, ".s.PGSQL."+strconv.Itoa(pg.Port))
		if fi, err := os.Stat(sock); err != nil || fi.Mode()&os.ModeSocket == 0 {
			t.Errorf("no socket at %s: %v", sock, err)
		}
	})

	t.Run("after Stop connections fail", func(t *testing.T) {
		start := time.Now()
		pg.Stop(t)
		t.Logf("Stop took %v", time.Since(start).Round(time.Millisecond))
		if _, err := conn.Exec(ctx, "SELECT 1"); err == nil {
			t.Error("a connection opened before Stop still works after it")
		}
		if c, err := pgx.Connect(ctx, pg.URL); err == nil {
			_ = c.Close(ctx)
			t.Error("pgx.Connect succeeded after Stop")
		}
		pg.Stop(t) // a second Stop does nothing
	})

	t.Run("after Restart the row is still there", func(t *testing.T) {
		start := time.Now()
		pg.Restart(t)
		t.Logf("Restart took %v", time.Since(start).Round(time.Millisecond))
		conn := pgConnect(ctx, t, pg.URL)
		var body string
		if err := conn.QueryRow(ctx, "SELECT body FROM messages").Scan(&body); err != nil {
			t.Fatal(err)
		}
		if body != "merhaba dünya" {
			t.Errorf("after Restart: %q, want %q", body, "merhaba dünya")
		}
	})

	t.Run("Restart of a running server restarts it", func(t *testing.T) {
		pg.Restart(t)
		conn := pgConnect(ctx, t, pg.URL)
		var n int
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM messages").Scan(&n); err != nil || n != 1 {
			t.Errorf("count = %d, %v; want 1 row", n, err)
		}
	})
}

func TestStartPostgresInParallelGivesEachTestItsOwnServer(t *testing.T) {
	t.Parallel()
	var ports, dirs inUse
	var mu sync.Mutex
	var used []string
	t.Run("group", func(t *testing.T) {
		for i := range 4 {
			t.Run(strconv.Itoa(i), func(t *testing.T) {
				t.Parallel()
				pg := StartPostgres(t)
				ports.hold(t, strconv.Itoa(pg.Port))
				dirs.hold(t, pg.Dir)
				mu.Lock()
				used = append(used, pg.Dir)
				mu.Unlock()
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				var port int
				if err := pgConnect(ctx, t, pg.URL).QueryRow(ctx, "SELECT inet_server_port()").Scan(&port); err != nil {
					t.Fatal(err)
				}
				if port != pg.Port {
					t.Errorf("connected to port %d, want %d", port, pg.Port)
				}
			})
		}
	})
	for _, dir := range used {
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Errorf("folder %s is still there after its test (%v)", dir, err)
		}
	}
}

// inUse is a set of ports or folders that running servers hold. A port
// may come back once its server is gone; two servers at once must not
// share one.
type inUse struct {
	mu   sync.Mutex
	held map[string]bool
}

// hold adds key to the set until the test ends; it is an error when
// another test holds key already.
func (s *inUse) hold(t *testing.T, key string) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.held[key] {
		t.Errorf("%s is used by two servers at once", key)
	}
	if s.held == nil {
		s.held = map[string]bool{}
	}
	s.held[key] = true
	t.Cleanup(func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		delete(s.held, key)
	})
}

// recorded runs f with a recorder standing in for t, in a goroutine of
// its own, because the recorder ends a skipped or failed f with Goexit.
func recorded(t *testing.T, f func(testing.TB)) *recorder {
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(r)
	}()
	<-done
	return r
}

func TestStartPostgresWithoutPostgreSQLSkipsOutsideCIAndFailsInCI(t *testing.T) {
	t.Setenv("PATH", t.TempDir()) // a PATH without initdb
	nowhere := filepath.Join(t.TempDir(), "*", "bin")
	need := func(tb testing.TB) { needPostgres(tb, nowhere) }

	t.Setenv("CI", "")
	r := recorded(t, need)
	if r.skipped == "" || r.failed != "" {
		t.Fatalf("outside CI: skipped=%q failed=%q, want a skip", r.skipped, r.failed)
	}
	if !strings.Contains(r.skipped, "sudo apt-get install postgresql") {
		t.Errorf("skip message %q does not say how to install", r.skipped)
	}

	t.Setenv("CI", "true")
	r = recorded(t, need)
	if r.failed == "" || r.skipped != "" {
		t.Fatalf("under CI=true: skipped=%q failed=%q, want a failure", r.skipped, r.failed)
	}
}
