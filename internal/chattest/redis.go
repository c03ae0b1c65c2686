package chattest

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Redis is a throwaway Redis server of one test, started by StartRedis or
// StartRedisTLS. It keeps its data in memory only: Stop, Kill and Restart
// empty it.
type Redis struct {
	// URL is the server's address for redis.ParseURL, for example
	// redis://127.0.0.1:41234/0, or rediss://127.0.0.1:41234/0 over TLS.
	URL string
	// Port is the server's TCP port on 127.0.0.1. Restart keeps it.
	Port int
	// CertPEM is the self-signed certificate of a TLS server, PEM
	// encoded; it is nil without TLS.
	CertPEM []byte

	program string // redis-server
	dir     string // working folder, with the certificate and key

	// mu serializes Stop, Kill and Restart, and guards the fields below.
	mu      sync.Mutex
	proc    *Process        // the running server, nil when stopped
	earlier strings.Builder // logs of the runs before proc
}

// StartRedis starts redis-server on a free 127.0.0.1 port, without
// persistence, in a temporary folder, and returns once it answers PING.
// The server is stopped when the test ends. When redis-server is missing,
// the test is skipped with a message saying how to install it, except
// under CI=true, where it fails.
func StartRedis(t testing.TB) *Redis {
	t.Helper()
	return startRedis(t, false)
}

// StartRedisTLS is StartRedis over TLS only, as Heroku Key-Value Store
// offers it: the URL is rediss://, and the server presents a self-signed
// certificate for 127.0.0.1, ::1 and localhost (CertPEM; TLSConfig
// trusts it). Clients need no certificate of their own.
func StartRedisTLS(t testing.TB) *Redis {
	t.Helper()
	return startRedis(t, true)
}

func startRedis(t testing.TB, withTLS bool) *Redis {
	t.Helper()
	program, err := exec.LookPath("redis-server")
	if err != nil {
		missingServer(t, "redis-server not found on PATH; "+
			"install it (Debian/Ubuntu: sudo apt-get install redis-server) to run the Redis tests", "Redis")
	}
	r := &Redis{program: program, dir: t.TempDir()}
	if withTLS {
		cert, key, err := selfSignedCert()
		if err != nil {
			t.Fatalf("make a certificate: %v", err)
		}
		r.CertPEM = cert
		if err := os.WriteFile(filepath.Join(r.dir, "redis.crt"), cert, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(r.dir, "redis.key"), key, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	r.setPort(FreePort(t))
	// Registered after t.TempDir, so it runs before the folder goes.
	t.Cleanup(func() {
		if err := r.halt(syscall.SIGTERM); err != nil {
			t.Errorf("stop Redis: %v", err)
		}
		if t.Failed() {
			t.Logf("Redis log:\n%s", r.Logs())
		}
	})
	r.mu.Lock()
	defer r.mu.Unlock()
	r.run(t, true)
	return r
}

// setPort moves the server (before it starts) to port.
func (r *Redis) setPort(port int) {
	r.Port = port
	scheme := "redis"
	if r.CertPEM != nil {
		scheme = "rediss"
	}
	r.URL = fmt.Sprintf("%s://127.0.0.1:%d/0", scheme, port)
}

// args returns the command line of redis-server. No configuration file
// is read, so the learner's /etc/redis cannot change the test.
func (r *Redis) args() []string {
	port := strconv.Itoa(r.Port)
	args := []string{
		"--bind", "127.0.0.1",
		"--dir", r.dir,
		// Keep nothing on disk: a restarted server starts empty.
		"--save", "",
		"--appendonly", "no",
	}
	if r.CertPEM == nil {
		return append(args, "--port", port)
	}
	return append(args,
		"--port", "0", // no plain TCP: a client must speak TLS
		"--tls-port", port,
		"--tls-cert-file", filepath.Join(r.dir, "redis.crt"),
		"--tls-key-file", filepath.Join(r.dir, "redis.key"),
		"--tls-auth-clients", "no",
	)
}

// run starts the server on r.Port and waits until it answers PING. On
// the first start (mayMove) it tries other free ports when the port has
// been taken. The caller holds r.mu.
func (r *Redis) run(t testing.TB, mayMove bool) {
	t.Helper()
	for attempt := 1; ; attempt++ {
		start := time.Now()
		cmd := exec.Command(r.program, r.args()...)
		cmd.Dir = r.dir
		p, err := startDaemon(cmd, nil)
		if err != nil {
			t.Fatalf("start %s: %v", r.program, err)
		}
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(r.Port))
		conf := r.TLSConfig()
		err = waitReady(p, serverReadyTimeout, func(ctx context.Context) error {
			return redisPing(ctx, addr, conf)
		})
		if err == nil {
			r.proc = p
			t.Logf("Redis answers PING at %s after %v", r.URL, time.Since(start).Round(time.Millisecond))
			return
		}
		kill(p)
		r.earlier.WriteString(p.Logs())
		if mayMove && attempt < startAttempts && portTaken(p) {
			r.setPort(FreePort(t))
			continue
		}
		t.Fatalf("Redis on port %d: %v", r.Port, err)
	}
}

// redisPing sends PING to the server at addr, over TLS when conf is not
// nil, and checks that it answers PONG.
func redisPing(ctx context.Context, addr string, conf *tls.Config) error {
	var conn net.Conn
	var err error
	if conf == nil {
		var d net.Dialer
		conn, err = d.DialContext(ctx, "tcp", addr)
	} else {
		d := tls.Dialer{Config: conf}
		conn, err = d.DialContext(ctx, "tcp", addr)
	}
	if err != nil {
		return err
	}
	defer conn.Close()
	if deadline, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(deadline)
	}
	if _, err := conn.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return err
	}
	if line != "+PONG\r\n" {
		return fmt.Errorf("PING answered %q", line)
	}
	return nil
}

// TLSConfig returns a new TLS client configuration that trusts only the
// server's certificate, for a client that checks it (set it as the
// TLSConfig of redis.ParseURL's options). It returns nil when the server
// does not speak TLS.
func (r *Redis) TLSConfig() *tls.Config {
	if r.CertPEM == nil {
		return nil
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(r.CertPEM)
	return &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
}

// Stop shuts the server down (SIGTERM) and returns once it has exited;
// from then on connections fail until Restart. Stopping a stopped server
// does nothing.
func (r *Redis) Stop(t testing.TB) {
	t.Helper()
	if err := r.halt(syscall.SIGTERM); err != nil {
		t.Fatalf("stop Redis: %v", err)
	}
}

// Kill ends the server at once (SIGKILL), as a crash would: it has no
// chance to say goodbye to its clients. It returns once the server has
// exited.
func (r *Redis) Kill(t testing.TB) {
	t.Helper()
	if err := r.halt(syscall.SIGKILL); err != nil {
		t.Fatalf("kill Redis: %v", err)
	}
}

// halt is Stop or Kill without a test to report to.
func (r *Redis) halt(sig syscall.Signal) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.proc == nil {
		return nil
	}
	p := r.proc
	r.proc = nil
	err := halt(p, sig)
	r.earlier.WriteString(p.Logs())
	return err
}

// Restart stops the server if it runs, then starts an empty one on the
// same port (with the same certificate), and returns once it answers
// PING. Call it, like Stop, from the test's goroutine.
func (r *Redis) Restart(t testing.TB) {
	t.Helper()
	if err := r.halt(syscall.SIGTERM); err != nil {
		t.Fatalf("stop Redis: %v", err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.run(t, false)
}

// Logs returns everything the server has logged, over all its runs.
func (r *Redis) Logs() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.earlier.String()
	if r.proc != nil {
		s += r.proc.Logs()
	}
	return s
}

// selfSignedCert returns a new certificate for 127.0.0.1, ::1 and
// localhost, signed by its own key, and that key, both PEM encoded.
func selfSignedCert() (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "chattest Redis"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM = pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	return certPEM, keyPEM, nil
}
