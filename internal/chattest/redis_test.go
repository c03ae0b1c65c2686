package chattest

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// redisClient returns a go-redis client for url, with the options that
// conf changes (when not nil); the client is closed when the test ends.
func redisClient(t *testing.T, url string, conf func(*redis.Options)) *redis.Client {
	t.Helper()
	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Fatalf("redis.ParseURL(%s): %v", url, err)
	}
	if conf != nil {
		conf(opt)
	}
	c := redis.NewClient(opt)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// failFast makes a client give up at the first failed dial or command,
// for checks that expect a failure: go-redis retries both by default.
func failFast(o *redis.Options) {
	o.MaxRetries = -1
	o.DialerRetries = 1
}

// redisRoundTrip writes a key, reads it back, and sends a message through
// a channel, as the fan-out step will.
func redisRoundTrip(ctx context.Context, t *testing.T, c *redis.Client) {
	t.Helper()
	if err := c.Set(ctx, "greeting", "merhaba", 0).Err(); err != nil {
		t.Fatalf("SET: %v", err)
	}
	if got, err := c.Get(ctx, "greeting").Result(); err != nil || got != "merhaba" {
		t.Fatalf("GET = %q, %v; want merhaba", got, err)
	}
	sub := c.Subscribe(ctx, "room")
	defer sub.Close()
	if _, err := sub.Receive(ctx); err != nil { // the subscription's confirmation
		t.Fatalf("SUBSCRIBE: %v", err)
	}
	if err := c.Publish(ctx, "room", "selam").Err(); err != nil {
		t.Fatalf("PUBLISH: %v", err)
	}
	select {
	case m := <-sub.Channel():
		if m.Channel != "room" || m.Payload != "selam" {
			t.Errorf("received %q on %q, want selam on room", m.Payload, m.Channel)
		}
	case <-ctx.Done():
		t.Fatal("no message from the channel")
	}
}

func TestRedisGoesAwayAndComesBack(t *testing.T) {
	t.Parallel()
	start := time.Now()
	r := StartRedis(t)
	t.Logf("StartRedis took %v", time.Since(start).Round(time.Millisecond))
	if want := "redis://127.0.0.1:" + strconv.Itoa(r.Port) + "/0"; r.URL != want {
		t.Errorf("URL = %s, want %s", r.URL, want)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := redisClient(t, r.URL, nil)
	probe := redisClient(t, r.URL, failFast)

	t.Run("a key and a message make the round trip", func(t *testing.T) {
		redisRoundTrip(ctx, t, c)
	})

	// Each way of going away, then Restart: the same client works again,
	// on an empty server.
	for _, away := range []struct {
		name string
		do   func(testing.TB)
	}{
		{"Stop", r.Stop},
		{"Kill", r.Kill},
	} {
		t.Run("after "+away.name+" commands fail, after Restart they work", func(t *testing.T) {
			if err := c.Set(ctx, "before", "1", 0).Err(); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			away.do(t)
			t.Logf("%s took %v", away.name, time.Since(start).Round(time.Millisecond))
			if err := probe.Ping(ctx).Err(); err == nil {
				t.Errorf("PING succeeded after %s", away.name)
			}
			start = time.Now()
			r.Restart(t)
			t.Logf("Restart took %v", time.Since(start).Round(time.Millisecond))
			if err := c.Ping(ctx).Err(); err != nil {
				t.Fatalf("PING after Restart: %v", err)
			}
			if err := c.Get(ctx, "before").Err(); !errors.Is(err, redis.Nil) {
				t.Errorf("GET of a key from before: %v, want redis.Nil (nothing is kept)", err)
			}
			redisRoundTrip(ctx, t, c)
		})
	}
}

func TestRedisTLSServesOnlyTLSWithItsSelfSignedCertificate(t *testing.T) {
	t.Parallel()
	start := time.Now()
	r := StartRedisTLS(t)
	t.Logf("StartRedisTLS took %v", time.Since(start).Round(time.Millisecond))
	if !strings.HasPrefix(r.URL, "rediss://127.0.0.1:") {
		t.Errorf("URL = %s, want rediss://127.0.0.1:PORT/0", r.URL)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	trusting := func(o *redis.Options) { o.TLSConfig = r.TLSConfig() }

	t.Run("a client that trusts the certificate makes the round trip", func(t *testing.T) {
		redisRoundTrip(ctx, t, redisClient(t, r.URL, trusting))
	})
	t.Run("a client that skips verification, as on Heroku, gets in", func(t *testing.T) {
		c := redisClient(t, r.URL+"?skip_verify=true", nil)
		if err := c.Ping(ctx).Err(); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("a client that checks against the system's roots is refused", func(t *testing.T) {
		c := redisClient(t, r.URL, failFast)
		if err := c.Ping(ctx).Err(); err == nil || !strings.Contains(err.Error(), "certificate") {
			t.Errorf("PING = %v, want a certificate error", err)
		}
	})
	t.Run("a client without TLS gets no answer", func(t *testing.T) {
		c := redisClient(t, strings.Replace(r.URL, "rediss:", "redis:", 1), func(o *redis.Options) {
			failFast(o)
			o.ReadTimeout = time.Second
		})
		if err := c.Ping(ctx).Err(); err == nil {
			t.Error("PING over plain TCP succeeded")
		}
	})
	t.Run("after Stop and Restart TLS works again", func(t *testing.T) {
		c := redisClient(t, r.URL, trusting)
		probe := redisClient(t, r.URL, func(o *redis.Options) { trusting(o); failFast(o) })
		r.Stop(t)
		if err := probe.Ping(ctx).Err(); err == nil {
			t.Error("PING succeeded after Stop")
		}
		start := time.Now()
		r.Restart(t)
		t.Logf("Restart took %v", time.Since(start).Round(time.Millisecond))
		redisRoundTrip(ctx, t, c)
	})
}

func TestStartRedisInParallelGivesEachTestItsOwnServer(t *testing.T) {
	t.Parallel()
	var ports inUse
	for i := range 8 {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			t.Parallel()
			start := StartRedis
			if i%2 == 1 {
				start = StartRedisTLS
			}
			r := start(t)
			ports.hold(t, strconv.Itoa(r.Port))
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			c := redisClient(t, r.URL, func(o *redis.Options) { o.TLSConfig = r.TLSConfig() })
			// Each server holds only its own test's key.
			if err := c.Set(ctx, "test-"+strconv.Itoa(i), i, 0).Err(); err != nil {
				t.Fatal(err)
			}
			if n, err := c.DBSize(ctx).Result(); err != nil || n != 1 {
				t.Errorf("DBSIZE = %d, %v; want 1", n, err)
			}
		})
	}
}

func TestStartRedisWithoutRedisSkipsOutsideCIAndFailsInCI(t *testing.T) {
	t.Setenv("PATH", t.TempDir()) // a PATH without redis-server
	start := func(tb testing.TB) { StartRedis(tb) }

	t.Setenv("CI", "")
	r := recorded(t, start)
	if r.skipped == "" || r.failed != "" {
		t.Fatalf("outside CI: skipped=%q failed=%q, want a skip", r.skipped, r.failed)
	}
	if !strings.Contains(r.skipped, "sudo apt-get install redis-server") {
		t.Errorf("skip message %q does not say how to install", r.skipped)
	}

	t.Setenv("CI", "true")
	r = recorded(t, start)
	if r.failed == "" || r.skipped != "" {
		t.Fatalf("under CI=true: skipped=%q failed=%q, want a failure", r.skipped, r.failed)
	}
}
