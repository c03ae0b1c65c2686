package gosocketio

// Bu dosya, Engine.IO 3'ün uzun yoklama gövdelerini (payload) okur ve
// yazar. Bir gövde, art arda dizilmiş paketlerdir; iki biçimi vardır:
//
//   - Metin (text/plain): her paket "uzunluk:paket". socket.io-client 2.x
//     uzunluğu JavaScript'in dizge uzunluğuyla, yani UTF-16 birimiyle
//     yazar ve okur: "ağaç" 4 birimdir ama 6 bayttır. go-socket.io v1.7.0
//     bayt saydığı için Türkçe harfli her mesaj bağlantıyı koparırdı.
//     İkili bir paket metin gövdesinde "b" ve base64 ile taşınır.
//   - İkili (application/octet-stream): her paket bir tür baytı (0 metin,
//     1 ikili), uzunluğun onluk basamakları (her biri bir bayt, 0-9), 0xFF
//     ve paketin kendisi. Burada uzunluk bayttır.

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/googollee/go-socket.io/engineio/frame"
	"github.com/googollee/go-socket.io/engineio/packet"
)

// eioPacket, bir Engine.IO paketidir: çerçeve türü (metin ya da ikili),
// paket türü (ping, mesaj...) ve tür karakteri olmadan verisi.
type eioPacket struct {
	ft   frame.Type
	pt   packet.Type
	data []byte
}

// errBadPayload, kurallara uymayan bir uzun yoklama gövdesidir.
var errBadPayload = errors.New("geçersiz Engine.IO gövdesi")

// maxLenDigits, bir paket uzunluğunda kabul edilen en çok basamaktır.
const maxLenDigits = 10

// decodeText, metin biçimindeki bir gövdeyi paketlerine ayırır;
// uzunluklar UTF-16 birimidir.
func decodeText(body []byte) ([]eioPacket, error) {
	var out []eioPacket
	for len(body) > 0 {
		colon := bytes.IndexByte(body, ':')
		if colon <= 0 || colon > maxLenDigits || !allDigits(body[:colon]) {
			return nil, errBadPayload
		}
		units, _ := strconv.Atoi(string(body[:colon]))
		body = body[colon+1:]
		size, ok := utf16Prefix(body, units)
		if !ok || units == 0 {
			return nil, errBadPayload
		}
		p, err := parseTextPacket(body[:size])
		if err != nil {
			return nil, err
		}
		out = append(out, p)
		body = body[size:]
	}
	return out, nil
}

// decodeBinary, ikili biçimdeki bir gövdeyi paketlerine ayırır;
// uzunluklar bayttır.
func decodeBinary(body []byte) ([]eioPacket, error) {
	var out []eioPacket
	for len(body) > 0 {
		kind := body[0]
		if kind > 1 {
			return nil, errBadPayload
		}
		n, i := 0, 1
		for ; i < len(body) && body[i] != 0xFF; i++ {
			if body[i] > 9 || i > maxLenDigits {
				return nil, errBadPayload
			}
			n = n*10 + int(body[i])
		}
		if i == 1 || i == len(body) || n == 0 || len(body)-i-1 < n {
			return nil, errBadPayload
		}
		raw := body[i+1 : i+1+n]
		body = body[i+1+n:]
		if kind == 1 {
			if raw[0] > 6 {
				return nil, errBadPayload
			}
			out = append(out, eioPacket{ft: frame.Binary, pt: packet.Type(raw[0]), data: raw[1:]})
			continue
		}
		p, err := parseTextPacket(raw)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// parseTextPacket okur: "4veri" metin paketidir, "b4YmFzZTY0" ise base64
// ile yazılmış ikili paket.
func parseTextPacket(p []byte) (eioPacket, error) {
	if p[0] == 'b' {
		if len(p) < 2 || !isPacketType(p[1]) {
			return eioPacket{}, errBadPayload
		}
		data, err := base64.StdEncoding.AppendDecode(nil, p[2:])
		if err != nil {
			return eioPacket{}, errBadPayload
		}
		return eioPacket{ft: frame.Binary, pt: packet.ByteToPacketType(p[1], frame.String), data: data}, nil
	}
	if !isPacketType(p[0]) {
		return eioPacket{}, errBadPayload
	}
	return eioPacket{ft: frame.String, pt: packet.ByteToPacketType(p[0], frame.String), data: p[1:]}, nil
}

// encodeText, paketleri metin gövdesine yazar; uzunluklar UTF-16 birimidir.
func encodeText(b []byte, packets []eioPacket) []byte {
	for _, p := range packets {
		if p.ft == frame.Binary {
			enc := base64.StdEncoding.EncodedLen(len(p.data))
			b = strconv.AppendInt(b, int64(2+enc), 10)
			b = append(b, ':', 'b', p.pt.StringByte())
			b = base64.StdEncoding.AppendEncode(b, p.data)
			continue
		}
		b = strconv.AppendInt(b, int64(1+utf16Len(p.data)), 10)
		b = append(b, ':', p.pt.StringByte())
		b = append(b, p.data...)
	}
	return b
}

// encodeBinary, paketleri ikili gövdeye yazar; uzunluklar bayttır.
func encodeBinary(b []byte, packets []eioPacket) []byte {
	for _, p := range packets {
		kind, typ := byte(0), p.pt.StringByte()
		if p.ft == frame.Binary {
			kind, typ = 1, p.pt.BinaryByte()
		}
		b = append(b, kind)
		for _, d := range strconv.AppendInt(nil, int64(1+len(p.data)), 10) {
			b = append(b, d-'0')
		}
		b = append(b, 0xFF, typ)
		b = append(b, p.data...)
	}
	return b
}

// utf16Prefix, b'nin ilk units UTF-16 biriminin kaç bayt tuttuğunu bulur.
// Bir vekil çiftin (surrogate pair) ortasında biten uzunluk geçersizdir.
func utf16Prefix(b []byte, units int) (size int, ok bool) {
	for n := 0; n < units; {
		if size >= len(b) {
			return 0, false
		}
		r, w := utf8.DecodeRune(b[size:])
		size += w
		n += runeUnits(r)
		if n > units {
			return 0, false
		}
	}
	return size, true
}

// utf16Len, b'nin UTF-16 birimi olarak uzunluğudur (JavaScript'in
// string.length değeri).
func utf16Len(b []byte) int {
	n := 0
	for len(b) > 0 {
		r, w := utf8.DecodeRune(b)
		b = b[w:]
		n += runeUnits(r)
	}
	return n
}

// runeUnits, bir karakterin UTF-16 birimi sayısıdır; geçersiz bir bayt
// (RuneError) bir birim sayılır.
func runeUnits(r rune) int {
	return max(utf16.RuneLen(r), 1)
}

func allDigits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return len(b) > 0
}

// isPacketType, c'nin Engine.IO 3'ün paket türlerinden biri (0 açılış,
// 1 kapanış, 2 ping, 3 pong, 4 mesaj, 5 yükseltme, 6 boş) olduğunu söyler.
func isPacketType(c byte) bool {
	return c >= '0' && c <= '6'
}
