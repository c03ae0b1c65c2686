package interop

import "testing"

// TestTurkishLettersCrossEveryTransport sends a message made of the letters
// a Turkish learner types. Engine.IO 3 counts a polling payload's lengths
// in characters; a server that counts bytes instead breaks exactly here.
func TestTurkishLettersCrossEveryTransport(t *testing.T) {
	n := needNode(t)
	step, _ := finalStep(t)
	p := startStep(t, step)
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			text := randomText(t, "çğıİöşü ÇĞÖŞÜ")
			events := n.drive(t, p.URL, m.name, "broadcast", text)
			checkTransports(t, events, m.want, "A", "B")
			checkBroadcast(t, events, text)
		})
	}
}
