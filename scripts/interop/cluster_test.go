package interop

import (
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"sohbet/internal/chattest"
	"sohbet/internal/repo"
)

// From step 11 on, the official client chats across two processes of one
// cluster (one Redis, one database): in each scenario client A is on the
// first process and every other client on the second. Presence, typing,
// private messages, acknowledgements and exactly-once delivery must hold
// as on one process.
func TestStep11OnNodeClientsChatAcrossProcesses(t *testing.T) {
	root, err := repo.Root()
	if err != nil {
		t.Fatal(err)
	}
	steps, err := repo.Steps(root)
	if err != nil {
		t.Fatal(err)
	}
	ran := false
	for _, dir := range steps {
		if num, _ := strconv.Atoi(dir[:2]); num >= 11 {
			ran = true
			t.Run(dir, func(t *testing.T) { testCluster(t, dir) })
		}
	}
	if !ran {
		t.Skip("no step 11 yet")
	}
}

func testCluster(t *testing.T, dir string) {
	n := needNode(t)
	r := chattest.StartRedis(t)
	bin := chattest.Build(t, filepath.Join("..", "..", "steps", dir))
	env := []string{"REDIS_URL=" + r.URL, "DATABASE_PATH=" + filepath.Join(t.TempDir(), "sohbet.db")}
	first := chattest.Start(t, bin, env...)
	second := chattest.Start(t, bin, env...)
	for _, p := range []*chattest.Process{first, second} {
		if err := p.WaitLog("Redis'e bağlandı", 10*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			checkPrivate(t, n, first.URL, m.name, m.want, "second="+second.URL)
			checkDelivery(t, n, first.URL, m.name, m.want, "second="+second.URL)
		})
	}
}
