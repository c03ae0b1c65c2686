package gosocketio

import (
	"fmt"
	"testing"

	"github.com/googollee/go-socket.io/engineio/frame"
	"github.com/googollee/go-socket.io/engineio/packet"
)

func textPacket(pt packet.Type, data string) eioPacket {
	return eioPacket{ft: frame.String, pt: pt, data: []byte(data)}
}

func show(ps []eioPacket) string {
	s := ""
	for _, p := range ps {
		s += fmt.Sprintf("[%d %d %q]", p.ft, p.pt, p.data)
	}
	return s
}

func TestTextPayloadsCountUTF16Units(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		packets []eioPacket
	}{
		{"ASCII", `23:42["chat message","hi"]`, []eioPacket{textPacket(packet.MESSAGE, `2["chat message","hi"]`)}},
		{"Turkish letters are one unit and two bytes each", `25:42["chat message","ağaç"]`, []eioPacket{textPacket(packet.MESSAGE, `2["chat message","ağaç"]`)}},
		{"an emoji is two units and four bytes", `23:42["chat message","🙂"]`, []eioPacket{textPacket(packet.MESSAGE, `2["chat message","🙂"]`)}},
		{"several packets", `1:225:42["chat message","ağaç"]1:6`, []eioPacket{
			textPacket(packet.PING, ""), textPacket(packet.MESSAGE, `2["chat message","ağaç"]`), textPacket(packet.NOOP, ""),
		}},
		{"digits and a colon inside a packet", `9:42["1:2"]2:40`, []eioPacket{textPacket(packet.MESSAGE, `2["1:2"]`), textPacket(packet.MESSAGE, "0")}},
		{"a binary packet in base64", `6:b4AQID`, []eioPacket{{ft: frame.Binary, pt: packet.MESSAGE, data: []byte{1, 2, 3}}}},
		{"an empty body", ``, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodeText([]byte(tt.body))
			if err != nil || show(got) != show(tt.packets) {
				t.Fatalf("decodeText(%q) = %s, %v; want %s", tt.body, show(got), err, show(tt.packets))
			}
			if back := string(encodeText(nil, got)); back != tt.body {
				t.Fatalf("encodeText = %q, want %q", back, tt.body)
			}
		})
	}
}

func TestBadTextPayloadsAreRefused(t *testing.T) {
	for _, bad := range []string{
		"x:1", ":1", "5:abc", "3", "-1:4", "+2:4x", "0:", "99:4x",
		`27:42["chat message","ağaç"]`, // bytes, not units: the old library's way
		"2:9x",                         // no such packet type
		"3:b4!", "1:b",                 // broken base64, binary without a type
		"1:4" + "\xf0\x9f", // half a character
		"12345678901:4",
	} {
		if got, err := decodeText([]byte(bad)); err == nil {
			t.Errorf("decodeText(%q) = %s, want an error", bad, show(got))
		}
	}
}

func TestBinaryPayloadsCountBytes(t *testing.T) {
	packets := []eioPacket{
		textPacket(packet.MESSAGE, `2["chat message","ağaç"]`),
		{ft: frame.Binary, pt: packet.MESSAGE, data: []byte{0, 255}},
	}
	body := encodeBinary(nil, packets)
	want := append([]byte{0, 2, 7, 0xFF}, `42["chat message","ağaç"]`...)
	want = append(want, 1, 3, 0xFF, 4, 0, 255)
	if string(body) != string(want) {
		t.Fatalf("encodeBinary = %v, want %v", body, want)
	}
	got, err := decodeBinary(body)
	if err != nil || show(got) != show(packets) {
		t.Fatalf("decodeBinary = %s, %v; want %s", show(got), err, show(packets))
	}
	for _, bad := range [][]byte{
		{2, 1, 0xFF, '4'},    // no such kind
		{0, 0xFF, '4'},       // no length
		{0, 5, 0xFF, '4'},    // shorter than said
		{0, 1, 2},            // no 0xFF
		{0, 10, 0xFF},        // not a digit
		{1, 1, 0xFF, 9},      // no such binary packet type
		{0, 1, 0xFF, 'x'},    // no such text packet type
		{0, 0, 0xFF, 'x'},    // a zero length
		{0, 1, 0xFF, '4', 7}, // a stray byte after the packet
	} {
		if got, err := decodeBinary(bad); err == nil {
			t.Errorf("decodeBinary(%v) = %s, want an error", bad, show(got))
		}
	}
}

// FuzzDecodeText checks that no body crashes the decoder and that every
// body it accepts is written back byte for byte.
func FuzzDecodeText(f *testing.F) {
	for _, seed := range []string{`23:42["chat message","hi"]`, `1:225:42["chat message","ağaç"]`, `6:b4AQID`, "1:6", ""} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		packets, err := decodeText(body)
		if err != nil {
			return
		}
		if back := encodeText(nil, packets); string(back) != string(body) {
			// base64 has several spellings of the same bytes; compare what
			// they decode to.
			again, err := decodeText(back)
			if err != nil || show(again) != show(packets) {
				t.Fatalf("decodeText(%q) = %s, written back as %q", body, show(packets), back)
			}
		}
	})
}
