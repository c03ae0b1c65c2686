package main

import "time"

// Bu dosya, hub'ın diğer süreçlerden Redis'le gelen olayları nasıl
// işlediğini gösterir. Her olay, bu süreçteki kullanıcılara, kendi
// süreçlerinde olmuş gibi aynı adla ("user joined", "typing", …) iletilir;
// sayfa hangi süreçte olduğunu bilmez.
//
// Sayfa çevrimiçi listesini bir ad kümesi olarak tutar. Bu yüzden bir ad
// için "user joined" yalnızca ad hiçbir yerde yokken, "user left" de ad
// hiçbir yerde kalmayınca gider. Bunun önemi bir çöküşte görülür: Ali'nin
// süreci ölür, sayfası başka bir sürece bağlanıp adını geri alır; birkaç
// saniye sonra ölen süreç unutulunca Ali için "user left" gitseydi Ali,
// çevrimiçiyken listeden düşerdi.

// fromPeer, başka bir süreçten gelen zarfı işler. Sohbet mesajları buraya
// gelmez; onları sunucu kimlik sırasına koyar (deliver).
func (h *hub) fromPeer(e envelope, now time.Time) {
	h.mu.Lock()
	var slow []*client
	p := h.peer(e.Proc, now)
	switch e.Kind {
	case kindJoined:
		slow = h.peerJoined(p, e.Nick)
	case kindLeft:
		slow = h.peerLeft(p, e.Nick)
	case kindRenamed:
		fromKey, toKey := nickKey(e.From), nickKey(e.To)
		_, had := p.users[fromKey]
		delete(p.users, fromKey)
		fromStays, toShown := h.taken(fromKey), h.taken(toKey)
		p.users[toKey] = e.To
		if had && !fromStays && !toShown {
			slow = h.toAll("nickname changed", renamed{From: e.From, To: e.To})
			break
		}
		// Eski ad listede kalıyor ya da yeni ad zaten listede: sayfaya
		// olanı bir ayrılma ve bir katılma olarak anlatırız.
		if had && !fromStays {
			slow = h.toAll("user left", presence{Nick: e.From})
		}
		if !toShown {
			slow = append(slow, h.toAll("user joined", presence{Nick: e.To})...)
		}
	case kindUsers:
		slow = h.syncPeer(p, e.Users)
	case kindTyping:
		slow = h.toAll("typing", typingNotice{Nick: e.Nick, Typing: e.Typing})
	case kindPrivate:
		if e.Private == nil {
			break
		}
		if rcpt, ok := h.byNick[nickKey(e.Private.To)]; ok && !rcpt.push(outgoing{"private message", *e.Private}, h.queueSize) {
			slow = append(slow, rcpt)
		}
	}
	h.mu.Unlock()
	h.drop(slow)
}

// peerJoined, nick'i p'nin kullanıcılarına ekler; ad hiçbir yerde yoktuysa
// herkese "user joined" gönderir. h.mu tutulurken çağrılır.
func (h *hub) peerJoined(p *peer, nick string) []*client {
	key := nickKey(nick)
	if _, ok := p.users[key]; ok {
		return nil
	}
	shown := h.taken(key)
	p.users[key] = nick
	if shown {
		return nil
	}
	return h.toAll("user joined", presence{Nick: nick})
}

// peerLeft, nick'i p'nin kullanıcılarından çıkarır; ad başka hiçbir
// yerde kalmadıysa herkese "user left" gönderir. h.mu tutulurken
// çağrılır.
func (h *hub) peerLeft(p *peer, nick string) []*client {
	key := nickKey(nick)
	if _, ok := p.users[key]; !ok {
		return nil
	}
	delete(p.users, key)
	if h.taken(key) {
		return nil
	}
	return h.toAll("user left", presence{Nick: nick})
}

// peer, kimliği verilen süreci döndürür (ilk kez duyulduysa ekler) ve
// sesinin duyulduğu anı günceller; h.mu tutulurken çağrılır.
func (h *hub) peer(proc string, now time.Time) *peer {
	p, ok := h.peers[proc]
	if !ok {
		p = &peer{users: make(map[string]string)}
		h.peers[proc] = p
	}
	p.seen = now
	return p
}

// syncPeer, sürecin kalp atışındaki listeyi bildiğimizle karşılaştırır:
// listede olup bizde olmayan "user joined", bizde olup listede olmayan
// "user left" olur. Kaçırılan bir katılma ya da ayrılma (Redis bir an
// düştüyse) böylece en geç bir kalp atışında düzelir.
func (h *hub) syncPeer(p *peer, users []string) []*client {
	now := make(map[string]string, len(users))
	for _, nick := range users {
		now[nickKey(nick)] = nick
	}
	var slow []*client
	for key, nick := range p.users {
		if _, ok := now[key]; !ok {
			slow = append(slow, h.peerLeft(p, nick)...)
		}
	}
	for _, nick := range now {
		slow = append(slow, h.peerJoined(p, nick)...)
	}
	return slow
}

// forgetSilentPeers, before'dan beri sesi çıkmayan süreçleri unutur: o
// süreç habersizce ölmüştür (SIGKILL, çöken makine), kullanıcıları için
// herkese "user left" gider.
func (h *hub) forgetSilentPeers(before time.Time) {
	h.mu.Lock()
	var slow []*client
	for proc, p := range h.peers {
		if p.seen.Before(before) {
			for _, nick := range p.users {
				slow = append(slow, h.peerLeft(p, nick)...)
			}
			delete(h.peers, proc)
		}
	}
	h.mu.Unlock()
	h.drop(slow)
}

// trustPeers, Redis'e yeniden bağlanınca bilinen bütün süreçlere yeni
// bir süre tanır. Redis kopukken onların sesini duyamadık; bu, ölü
// oldukları anlamına gelmez.
func (h *hub) trustPeers(now time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, p := range h.peers {
		p.seen = now
	}
}

// heartbeat, bu süreçteki bütün kullanıcıların listesini diğer süreçlere
// gönderir. Liste kilit altında alınır ve aynı kilit altında sıraya girer:
// katılma ve ayrılma olaylarıyla sırası karışmaz.
func (h *hub) heartbeat() {
	h.mu.Lock()
	defer h.mu.Unlock()
	users := make([]string, 0, len(h.clients))
	for _, c := range h.clients {
		users = append(users, c.nick)
	}
	h.tell(envelope{Kind: kindUsers, Users: users})
}

// holds, takma adın bu süreçte birinde olduğunu söyler.
func (h *hub) holds(key string) bool {
	h.mu.RLock()
	defer h.mu.RUnlock()
	_, ok := h.byNick[key]
	return ok
}
