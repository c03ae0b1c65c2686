package interop

import (
	"strconv"
	"testing"

	"sohbet/internal/repo"
)

// deliveryAck is the acknowledgement of a "chat message" from step 10 on.
type deliveryAck struct {
	OK    bool   `json:"ok"`
	ID    int64  `json:"id"`
	Error string `json:"error"`
	Retry *bool  `json:"retry"`
}

// From step 10 on, the official client sends each message with a client
// offset and an acknowledgement, on every transport mode: a stored message
// is acknowledged with its id and reaches everyone once, the same offset
// again gets the same acknowledgement and no second copy, wrong messages
// are refused without a retry and without a notice, and a plain string of
// the earlier steps still goes through.
func TestStep10OnNodeClientsGetExactlyOnceDelivery(t *testing.T) {
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
		if num, _ := strconv.Atoi(dir[:2]); num >= 10 {
			ran = true
			t.Run(dir, func(t *testing.T) { testDelivery(t, dir) })
		}
	}
	if !ran {
		t.Skip("no step 10 yet")
	}
}

func testDelivery(t *testing.T, dir string) {
	n := needNode(t)
	p := startStep(t, dir)
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) { checkDelivery(t, n, p.URL, m.name, m.want) })
	}
}

// checkDelivery runs the delivery scenario against url; extra goes to the
// driver after TEXT (for example second=URL).
func checkDelivery(t *testing.T, n node, url, mode, wantTransport string, extra ...string) {
	s := runSuffix(t)
	events := n.drive(t, url, mode, "delivery", append([]string{s}, extra...)...)
	checkTransports(t, events, wantTransport, "A", "B")

	var a []deliveryAck
	for _, ev := range find(events, "ack", "A") {
		a = append(a, decode[deliveryAck](t, ev.Data))
	}
	if len(a) != 6 {
		t.Fatalf("A got %d acknowledgements, want 6: %+v", len(a), a)
	}
	first, retry, last := a[0], a[1], a[5]
	if !first.OK || first.ID == 0 || first.Retry != nil {
		t.Errorf("the first message: ack %+v, want {ok: true, id: N}", first)
	}
	if retry != first {
		t.Errorf("the same client offset again: ack %+v, want the first one's %+v", retry, first)
	}
	for i, what := range []string{"a blank text", "a number", "a 65-character client offset"} {
		if got := a[2+i]; got.OK || got.Error == "" || got.Retry == nil || *got.Retry {
			t.Errorf("%s: ack %+v, want {ok: false, error: …, retry: false}", what, got)
		}
	}
	if !last.OK || last.ID <= first.ID {
		t.Errorf("the last message: ack %+v, want an id after %d", last, first.ID)
	}

	want := []string{"tam bir kez " + s, "eski usul " + s, "son " + s}
	for _, client := range []string{"A", "B"} {
		var got []string
		var ids []int64
		for _, ev := range find(events, "received", client) {
			switch ev.Text {
			case want[0], want[1], want[2], "uzun kimlik " + s:
				got = append(got, ev.Text)
				ids = append(ids, ev.ID)
				if ev.Text == want[0] && ev.ClientOffset != "ilk-"+s {
					t.Errorf("client %s: the first message carries client offset %q, want %q", client, ev.ClientOffset, "ilk-"+s)
				}
			}
		}
		if len(got) != 3 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
			t.Errorf("client %s received %q, want each of %q once, in order", client, got, want)
			continue
		}
		if ids[0] != first.ID || ids[2] != last.ID || ids[1] <= ids[0] || ids[2] <= ids[1] {
			t.Errorf("client %s: ids %v, want %d, then larger, then %d", client, ids, first.ID, last.ID)
		}
	}
	// A client that sends a client offset hears of a refusal in its
	// acknowledgement only.
	for _, ev := range find(events, "got", "A") {
		if ev.Name == "chat notice" {
			t.Errorf("A got a chat notice %s; refusals belong in the acknowledgement", ev.Data)
		}
	}
}
