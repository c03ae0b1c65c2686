package main

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Mesaj doğrulamasının hataları. Her biri gönderene bildirim olarak gider.
var (
	errNotText  = errors.New("mesaj metin değil")
	errEmpty    = errors.New("mesaj boş")
	errTooLong  = errors.New("mesaj çok uzun")
	errBadUTF8  = errors.New("mesaj geçerli UTF-8 değil")
	errControl  = errors.New("mesajda denetim karakteri var")
	errRateHigh = errors.New("çok hızlı gönderiyorsunuz")
)

// validateMessage, "chat message" olayının verisini denetler ve
// yayınlanacak metni döndürür. go-socket.io veriyi JSON'dan çözer; metin
// dışındaki her tür (nesne, sayı, dizi, null, eksik veri) reddedilir.
func validateMessage(msg any, maxBytes int) (string, error) {
	text, ok := msg.(string)
	if !ok {
		return "", errNotText
	}
	if len(text) > maxBytes {
		return "", fmt.Errorf("%w: %d bayt, en çok %d bayt", errTooLong, len(text), maxBytes)
	}
	if !utf8.ValidString(text) {
		return "", errBadUTF8
	}
	if strings.TrimSpace(text) == "" {
		return "", errEmpty
	}
	// Sekme ve satır sonu dışındaki denetim karakterleri (NUL gibi)
	// ekranda görünmez ve bazı veritabanları onları saklayamaz.
	if strings.ContainsFunc(text, func(r rune) bool { return unicode.IsControl(r) && r != '\t' && r != '\n' && r != '\r' }) {
		return "", errControl
	}
	return text, nil
}

// rateLimiter, bir bağlantının saniyede en çok rate mesaj göndermesine
// izin veren bir jeton kovasıdır (token bucket). Kova burst jetonla dolu
// başlar; her mesaj bir jeton harcar; jetonlar saniyede rate hızla
// yenilenir. Kısa bir patlamaya izin verir, sürekli seli durdurur.
//
// Bir bağlantının olaylarını go-socket.io tek bir goroutine'de sırayla
// işlediği için kilit gerekmez.
type rateLimiter struct {
	rate   float64 // saniyede yenilenen jeton
	burst  float64 // kovanın kapasitesi
	tokens float64
	last   time.Time
}

func newRateLimiter(rate float64, burst int, now time.Time) *rateLimiter {
	return &rateLimiter{rate: rate, burst: float64(burst), tokens: float64(burst), last: now}
}

// allow, now anında bir mesaja izin verilip verilmediğini söyler.
func (l *rateLimiter) allow(now time.Time) bool {
	if elapsed := now.Sub(l.last).Seconds(); elapsed > 0 {
		l.tokens = min(l.burst, l.tokens+elapsed*l.rate)
		l.last = now
	}
	if l.tokens < 1 {
		return false
	}
	l.tokens--
	return true
}
