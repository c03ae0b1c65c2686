package chattest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// PostgresBinGlob matches the folders where Debian's postgresql package
// installs the server's programs, one folder per major version.
const PostgresBinGlob = "/usr/lib/postgresql/*/bin"

// postgresDatabase is the database StartPostgres creates for the test.
const postgresDatabase = "chattest"

// Postgres is a throwaway PostgreSQL server of one test, started by
// StartPostgres. Its superuser is postgres, who needs no password.
type Postgres struct {
	// URL is the connection string of the test's database, for pgx.Connect
	// or pgxpool.New, for example
	// postgres://postgres@127.0.0.1:41234/chattest?sslmode=disable.
	URL string
	// Port is the server's TCP port on 127.0.0.1. Restart keeps it.
	Port int
	// Database is the name of the database created for the test.
	Database string
	// Dir is the temporary folder of the server: the data directory
	// Dir/data and the server's unix socket. It is removed when the test
	// ends.
	Dir string

	postgres string      // the server program
	as       *serverUser // who runs the server, nil for the test's user

	// mu serializes Stop and Restart, and guards the fields below.
	mu        sync.Mutex
	proc      *Process        // the running server, nil when stopped
	earlier   strings.Builder // logs of the runs before proc
	databases int             // how many NewDatabase has created
}

// FindPostgres returns the paths of PostgreSQL's initdb and postgres
// programs, or "" twice when there are none: initdb on PATH first (with
// the postgres program beside it, or on PATH), then the newest major
// version under PostgresBinGlob.
func FindPostgres() (initdb, postgres string) {
	return findPostgres(PostgresBinGlob)
}

// findPostgres is FindPostgres with glob in place of PostgresBinGlob.
func findPostgres(glob string) (initdb, postgres string) {
	if p, err := exec.LookPath("initdb"); err == nil {
		// Debian links only some programs into PATH; the ones beside
		// the real initdb are of its version.
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real
		}
		if pg := filepath.Join(filepath.Dir(p), "postgres"); isProgram(pg) {
			return p, pg
		}
		if pg, err := exec.LookPath("postgres"); err == nil {
			return p, pg
		}
	}
	dirs, _ := filepath.Glob(glob)
	major := func(dir string) int {
		n, _ := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
		return n
	}
	slices.SortFunc(dirs, func(a, b string) int { return major(b) - major(a) })
	for _, dir := range dirs {
		initdb, postgres := filepath.Join(dir, "initdb"), filepath.Join(dir, "postgres")
		if isProgram(initdb) && isProgram(postgres) {
			return initdb, postgres
		}
	}
	return "", ""
}

// isProgram reports whether path is an executable file.
func isProgram(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

// StartPostgres starts a PostgreSQL server for the test: a new data
// directory (initdb, trust authentication) in a temporary folder, the
// server on a free 127.0.0.1 port with fsync off, and a database named
// Database. It returns once that database accepts connections. When the
// test ends, the server is shut down and the folder removed.
//
// PostgreSQL refuses to run as root: when the test runs as root, initdb
// and the server run as the postgres user, which Debian's package
// creates. When PostgreSQL is missing, the test is skipped with a message
// saying how to install it, except under CI=true, where it fails.
func StartPostgres(t testing.TB) *Postgres {
	t.Helper()
	initdb, postgres := needPostgres(t, PostgresBinGlob)
	as, err := postgresUser()
	if err != nil {
		missingServer(t, "the tests run as root, which PostgreSQL refuses, and there is no postgres user to run it as ("+
			err.Error()+"); install Debian's postgresql package, which creates that user, or run the tests as a normal user", "PostgreSQL")
	}

	// Not t.TempDir: its parent folders are closed to other users, and
	// its path holds the test's name, which can make the socket's path
	// longer than the 107 bytes a unix socket address may have.
	dir, err := os.MkdirTemp("", "chattest-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := os.RemoveAll(dir); err != nil {
			t.Errorf("remove PostgreSQL folder: %v", err)
		}
	})
	if as != nil {
		if err := os.Chown(dir, int(as.uid), int(as.gid)); err != nil {
			t.Fatalf("give %s to user %s: %v", dir, as.name, err)
		}
	}

	start := time.Now()
	cmd := exec.Command(initdb, "--pgdata="+filepath.Join(dir, "data"),
		"--auth=trust", "--username=postgres", "--encoding=UTF8", "--locale=C",
		// The folder is thrown away, so nothing needs to reach the disk.
		"--no-sync")
	cmd.Dir = dir
	cmd.Env = postgresEnv()
	if cmd.SysProcAttr, err = daemonAttr(as); err != nil {
		t.Fatal(err)
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		hint := ""
		if as != nil {
			hint = fmt.Sprintf(" (initdb runs as user %s: each folder above %s must let it in; set TMPDIR to a folder such as /tmp)", as.name, dir)
		}
		t.Fatalf("%s: %v%s\n%s", initdb, err, hint, out)
	}
	initTook := time.Since(start)

	pg := &Postgres{Database: postgresDatabase, Dir: dir, postgres: postgres, as: as}
	pg.setPort(FreePort(t))
	t.Cleanup(func() {
		if err := pg.stop(); err != nil {
			t.Errorf("stop PostgreSQL: %v", err)
		}
		if t.Failed() {
			t.Logf("PostgreSQL log:\n%s", pg.Logs())
		}
	})
	pg.mu.Lock()
	defer pg.mu.Unlock()
	pg.run(t, true)
	pg.createDatabase(t, pg.Database)
	t.Logf("PostgreSQL (%s) ready at %s in %v (initdb %v)",
		filepath.Dir(postgres), pg.URL, time.Since(start).Round(time.Millisecond), initTook.Round(time.Millisecond))
	return pg
}

// needPostgres returns findPostgres(glob). When PostgreSQL is missing, it
// skips the test, or fails it under CI=true.
func needPostgres(t testing.TB, glob string) (initdb, postgres string) {
	t.Helper()
	initdb, postgres = findPostgres(glob)
	if initdb == "" {
		missingServer(t, "PostgreSQL not found (initdb and postgres on PATH or in "+glob+"); "+
			"install it (Debian/Ubuntu: sudo apt-get install postgresql) to run the PostgreSQL tests", "PostgreSQL")
	}
	return initdb, postgres
}

// NewDatabase creates another empty database on the server and returns
// its connection string, for a subtest that needs a clean database
// without paying for a server of its own (initdb alone takes a second).
func (pg *Postgres) NewDatabase(t testing.TB) string {
	t.Helper()
	pg.mu.Lock()
	pg.databases++
	name := fmt.Sprintf("%s_%d", postgresDatabase, pg.databases)
	pg.mu.Unlock()
	pg.createDatabase(t, name)
	return pg.url(name)
}

// createDatabase creates the database name on the running server.
func (pg *Postgres) createDatabase(t testing.TB, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), serverReadyTimeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, pg.url("postgres"))
	if err != nil {
		t.Fatalf("connect to PostgreSQL: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database %s: %v", name, err)
	}
}

// postgresUser returns who runs PostgreSQL: nil (the test's own user)
// unless the test runs as root, then the postgres user.
func postgresUser() (*serverUser, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, err
	}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("user postgres: uid %q: %v", u.Uid, err)
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("user postgres: gid %q: %v", u.Gid, err)
	}
	return &serverUser{name: u.Username, uid: uint32(uid), gid: uint32(gid)}, nil
}

// postgresEnv is the environment of initdb and the server: messages in
// English, whatever the learner's locale, so that logs can be read in bug
// reports.
func postgresEnv() []string {
	return append(os.Environ(), "LC_ALL=C")
}

// setPort moves the server (before it starts) to port.
func (pg *Postgres) setPort(port int) {
	pg.Port = port
	pg.URL = pg.url(pg.Database)
}

// url returns the connection string of database on the server.
func (pg *Postgres) url(database string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", pg.Port, database)
}

// run starts the server on pg.Port and waits until it accepts
// connections. On the first start (mayMove) it tries other free ports
// when the port has been taken. The caller holds pg.mu.
func (pg *Postgres) run(t testing.TB, mayMove bool) {
	t.Helper()
	for attempt := 1; ; attempt++ {
		start := time.Now()
		cmd := exec.Command(pg.postgres,
			"-D", filepath.Join(pg.Dir, "data"),
			"-p", strconv.Itoa(pg.Port),
			"-c", "listen_addresses=127.0.0.1",
			"-c", "unix_socket_directories="+pg.Dir,
			// A crash of the machine may lose the test's data; nothing
			// else can, and the tests run much faster.
			"-c", "fsync=off",
			"-c", "synchronous_commit=off",
			"-c", "full_page_writes=off",
		)
		cmd.Dir = pg.Dir
		cmd.Env = postgresEnv()
		p, err := startDaemon(cmd, pg.as)
		if err != nil {
			t.Fatalf("start %s: %v", pg.postgres, err)
		}
		err = waitReady(p, serverReadyTimeout, func(ctx context.Context) error {
			conn, err := pgx.Connect(ctx, pg.url("postgres"))
			if err != nil {
				return err
			}
			return conn.Close(ctx)
		})
		if err == nil {
			pg.proc = p
			t.Logf("PostgreSQL accepts connections on port %d after %v", pg.Port, time.Since(start).Round(time.Millisecond))
			return
		}
		kill(p)
		pg.earlier.WriteString(p.Logs())
		if mayMove && attempt < startAttempts && portTaken(p) {
			pg.setPort(FreePort(t))
			continue
		}
		t.Fatalf("PostgreSQL on port %d: %v", pg.Port, err)
	}
}

// Stop shuts the server down as `pg_ctl stop -m fast` does: open sessions
// are ended, and a checkpoint keeps every committed row. It returns once
// the server and its backends have exited; from then on connections fail
// until Restart. Stopping a stopped server does nothing.
func (pg *Postgres) Stop(t testing.TB) {
	t.Helper()
	if err := pg.stop(); err != nil {
		t.Fatalf("stop PostgreSQL: %v", err)
	}
}

// stop is Stop without a test to report to.
func (pg *Postgres) stop() error {
	pg.mu.Lock()
	defer pg.mu.Unlock()
	if pg.proc == nil {
		return nil
	}
	p := pg.proc
	pg.proc = nil
	// SIGINT is PostgreSQL's fast shutdown.
	err := halt(p, syscall.SIGINT)
	pg.earlier.WriteString(p.Logs())
	return err
}

// Restart stops the server if it runs, then starts it again on the same
// port with the same data directory, so the data is still there. It
// returns once the server accepts connections. Call it, like Stop, from
// the test's goroutine.
func (pg *Postgres) Restart(t testing.TB) {
	t.Helper()
	if err := pg.stop(); err != nil {
		t.Fatalf("stop PostgreSQL: %v", err)
	}
	pg.mu.Lock()
	defer pg.mu.Unlock()
	pg.run(t, false)
}

// Logs returns everything the server has logged, over all its runs.
func (pg *Postgres) Logs() string {
	pg.mu.Lock()
	defer pg.mu.Unlock()
	s := pg.earlier.String()
	if pg.proc != nil {
		s += pg.proc.Logs()
	}
	return s
}
