package main

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
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

// maxOffsetBytes, bir istemci kimliğinin (clientOffset) en büyük boyudur.
const maxOffsetBytes = 64

// errBadOffset, istemci kimliği kurala uymayınca gönderene döner.
var errBadOffset = fmt.Errorf("istemci kimliği (clientOffset) boşluksuz, en çok %d karakterlik bir ASCII metin olmalı", maxOffsetBytes)

// validateOffset, "chat message" olayının ikinci verisini, sayfanın mesaja
// verdiği kimliği denetler. Yoksa (önceki adımların istemcileri) boş
// döner. Kimlik veritabanında benzersiz dizindedir; yalnızca görünür
// ASCII karakterlere izin veririz ki günlükte ve dizinde sorun çıkmasın.
func validateOffset(v any) (string, error) {
	if v == nil {
		return "", nil
	}
	offset, ok := v.(string)
	if !ok || offset == "" || len(offset) > maxOffsetBytes {
		return "", errBadOffset
	}
	for i := range len(offset) {
		if offset[i] < '!' || offset[i] > '~' {
			return "", errBadOffset
		}
	}
	return offset, nil
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

// errNotBool, "typing" olayının verisi true ya da false değilse gönderene
// gider.
var errNotBool = errors.New("yazma bildirimi true ya da false olmalı")

// errBadPrivate, "private message" olayının verisi {"to": "…", "text":
// "…"} biçiminde değilse onayda gönderene gider.
var errBadPrivate = errors.New(`özel mesaj {"to": "takma ad", "text": "metin"} biçiminde olmalı`)

// validatePrivate, "private message" olayının verisini denetler ve alıcıyla
// metni döndürür. Metin, herkese giden mesajlarla aynı kurallardan geçer.
func validatePrivate(v any, maxBytes int) (to, text string, err error) {
	m, ok := v.(map[string]any)
	if !ok {
		return "", "", errBadPrivate
	}
	to, ok = m["to"].(string)
	if !ok || to == "" {
		return "", "", errBadPrivate
	}
	text, err = validateMessage(m["text"], maxBytes)
	return to, text, err
}

// Takma ad kuralları.
const (
	// maxNickRunes, bir takma adın en çok karakter sayısıdır.
	maxNickRunes = 24
	// guestPrefix, sunucunun verdiği misafir adlarının başıdır.
	guestPrefix = "misafir-"
)

// Takma ad doğrulamasının hataları. Her biri, "set nickname" olayının
// onayında gönderene gider.
var (
	errNickNotText  = errors.New("takma ad metin olmalı")
	errNickEmpty    = errors.New("takma ad boş olamaz")
	errNickTooLong  = fmt.Errorf("takma ad en çok %d karakter olabilir", maxNickRunes)
	errNickChars    = errors.New("takma adda yalnızca harf, rakam, boşluk ve _ - . kullanılabilir")
	errNickReserved = errors.New("bu takma ad sunucuya ayrılmıştır")
	errNickTaken    = errors.New("bu takma adı şu anda başka biri kullanıyor")
)

// reservedNicks, kimsenin alamayacağı adlardır (nickKey biçiminde):
// sunucunun kendi bildirimleriyle karışmasınlar.
var reservedNicks = map[string]bool{
	"sunucu": true, "server": true, "sistem": true, "system": true,
	"yönetici": true, "admin": true, "moderatör": true, "moderator": true,
}

// validateNick, "set nickname" olayının verisini denetler ve takma adı
// yazılacağı biçimde döndürür. Önce Unicode'un birleşik biçimine (NFC)
// getirir: "ş" harfi ayrı bir işaretle yazılmışsa tek harfe döner. Baştaki
// ve sondaki boşluklar atılır, aradaki her boşluk dizisi (bölünmez boşluk
// gibi benzerleri de) tek boşluğa iner. Görünmez karakterler (sıfır
// genişlikli boşluk, yön işaretleri) ve denetim karakterleri harf ya da
// rakam olmadığı için reddedilir; böylece kimse bir başkasının adını
// görünmez bir karakter ekleyerek taklit edemez.
func validateNick(v any) (string, error) {
	s, ok := v.(string)
	if !ok {
		return "", errNickNotText
	}
	if len(s) > 4*maxNickRunes+64 {
		return "", errNickTooLong // uzun bir dizgeyi hiç işlemeyiz
	}
	s = strings.Join(strings.Fields(norm.NFC.String(s)), " ")
	switch {
	case s == "":
		return "", errNickEmpty
	case utf8.RuneCountInString(s) > maxNickRunes:
		return "", errNickTooLong
	}
	for _, r := range s {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && !strings.ContainsRune(" _-.", r) {
			return "", errNickChars
		}
	}
	if reservedNicks[nickKey(s)] {
		return "", errNickReserved
	}
	return s, nil
}

// nickKey, iki takma adın aynı sayılıp sayılmadığını bulmak için
// kullanılan biçimdir. Büyük-küçük harf farkı Türkçe kurallarla atılır
// (İ → i, I → ı); noktalı ve noktasız i ekranda birbirine çok benzediği
// için ayrıca aynı sayılır: "Ilgaz", "ılgaz" ve "ilgaz" aynı addır.
func nickKey(nick string) string {
	return strings.ReplaceAll(strings.ToLowerSpecial(unicode.TurkishCase, nick), "ı", "i")
}
