#!/usr/bin/env node
// Terminal sohbet istemcisi: kursun sunucusuna resmi socket.io-client 2.5.0
// ile bağlanır, gelen "chat message" olaylarını satır satır yazar ve
// standart girdiden okunan her satırı "chat message" olarak gönderir.
// Adım 07'den sonra takma ad, çevrimiçi listesi ve (adım 08) özel mesaj
// komutları da vardır: /ad, /kim, /ozel; hepsini /yardim listeler.
//
//   node scripts/terminal-client [URL] [--transport websocket|polling] [--nick AD]
//
// Gelen mesajlar stdout'a, durum ve hata satırları stderr'e gider; böylece
// çıktı bir dosyaya ya da başka bir programa temizce yönlendirilebilir.
'use strict';

const readline = require('readline');
const io = require('socket.io-client');

const DEFAULT_URL = 'http://localhost:3000';
const PINNED_VERSION = '2.5.0';

// Girdi bittiğinde (EOF) gönderilmiş satırların sunucuya ulaşması için
// beklenen en uzun süreler. Sunucuya hiç ulaşılamıyorsa program sonsuza
// kadar asılı kalmasın diye sınırlıdır.
const CONNECT_WAIT_MS = 10000;
const CLOSE_WAIT_MS = 5000;

// ANSWER_WAIT_MS, bir komutun yanıtı için beklenen en uzun süredir: onay
// isteyen bir olayın onayı ya da /kim için çevrimiçi listesi. Önceki
// adımların sunucuları bu olayları tanımaz ve hiç yanıt vermez.
const ANSWER_WAIT_MS = 5000;

// TYPING_FORGET_MS, "yazıyor…" bildirimi yenilenmezse yazanın bırakmış
// sayıldığı süredir; sayfadaki gibi.
const TYPING_FORGET_MS = 4000;

// COMMANDS, /yardim'ın gösterdiği listedir.
const COMMANDS = [
  'Komutlar (adım 07 ve sonrası):',
  '  /ad YENİ_AD       takma adınızı değiştirir; yalnızca /ad, adınızı söyler',
  '  /kim              çevrimiçi olanları listeler',
  '  /ozel AD metin    metni yalnızca AD adlı kişiye özel mesaj olarak gönderir',
  '                    (adım 08); boşluklu adı tırnağa alın: /ozel "Ayşe Yılmaz" selam',
  '  /yardim           bu listeyi gösterir',
  '  //metin           / ile başlayan bir mesaj gönderir ("/metin")',
].join('\n');

function usage() {
  return [
    'Kullanım: node scripts/terminal-client [URL] [--transport websocket|polling] [--nick AD]',
    '',
    `  URL          sunucunun adresi (varsayılan: ${DEFAULT_URL})`,
    '  --transport  yalnızca bu taşıma yöntemini kullan; verilmezse',
    '               önce polling ile bağlanılır, sonra websocket\'e yükseltilir',
    '  --nick AD    bu takma adla bağlan (adım 07 ve sonrası); ad geçersizse',
    '               ya da başkasındaysa sunucu bir misafir adı verir',
    '  -h, --help   bu yardımı göster',
    '',
    'Her satır "chat message" olarak gönderilir; boş satırlar atlanır.',
    '/ ile başlayan satırlar komuttur.',
    COMMANDS,
    '',
    'Çıkmak için Ctrl+D (girdinin sonu) ya da Ctrl+C.',
  ].join('\n');
}

function parseArgs(argv) {
  const opts = { url: DEFAULT_URL, transport: null, nick: null };
  let sawURL = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '-h' || arg === '--help') {
      return { help: true };
    }
    if (arg === '--nick' || arg === '-n' || arg.startsWith('--nick=')) {
      const nick = arg.startsWith('--nick=') ? arg.slice('--nick='.length) : argv[++i];
      if (nick === undefined || nick.trim() === '') {
        throw new Error(`${arg.split('=')[0]} bir takma ad bekliyor`);
      }
      opts.nick = nick;
      continue;
    }
    let value = null;
    if (arg === '--transport' || arg === '-t') {
      value = argv[++i];
      if (value === undefined) {
        throw new Error(`${arg} bir değer bekliyor: websocket ya da polling`);
      }
    } else if (arg.startsWith('--transport=')) {
      value = arg.slice('--transport='.length);
    } else if (arg.startsWith('-')) {
      throw new Error(`bilinmeyen seçenek: ${arg}`);
    } else if (sawURL) {
      throw new Error(`fazladan argüman: ${arg}`);
    } else {
      sawURL = true;
      opts.url = arg;
      continue;
    }
    if (value !== 'websocket' && value !== 'polling') {
      throw new Error(`geçersiz taşıma yöntemi: ${value} (websocket ya da polling olmalı)`);
    }
    opts.transport = value;
  }
  let parsed;
  try {
    parsed = new URL(opts.url);
  } catch (e) {
    throw new Error(`geçersiz adres: ${opts.url}`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new Error(`adres http:// ya da https:// ile başlamalı: ${opts.url}`);
  }
  return opts;
}

// printable, bir mesajı terminale güvenle yazılabilir hale getirir: kontrol
// karakterleri (ör. ESC ile başlayan renk ve imleç kodları) görünür kaçış
// dizilerine çevrilir; başkasının mesajı terminalinizi yönetemez.
function printable(value) {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return String(text).replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) =>
    '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
}

// nickKey, sunucudaki gibi iki takma adın aynı sayılıp sayılmadığını
// bulmaya yarar: büyük-küçük harf Türkçe kurallarla atılır, noktalı ve
// noktasız i aynı sayılır. Yalnızca /ozel'de alıcıyı bulmak için.
function nickKey(nick) {
  return nick.toLocaleLowerCase('tr').replace(/ı/g, 'i');
}

// normalizeNick, sunucunun bir takma adı saklamadan önce yaptığını yapar:
// Unicode'un birleşik biçimi, tek boşluklar. İstenen adın verilip
// verilmediğini anlamaya yarar.
function normalizeNick(nick) {
  return nick.normalize('NFC').split(/\s+/u).filter(Boolean).join(' ');
}

// splitRecipient, /ozel'in argümanını alıcıya ve metne ayırır. Ad
// tırnaktaysa tırnağın içidir. Değilse çevrimiçi listesindeki, satırın
// başına uyan en uzun addır ("Ayşe Yılmaz selam" → "Ayşe Yılmaz"); hiçbiri
// uymazsa ilk sözcüktür. Ayrılamıyorsa null döndürür.
function splitRecipient(rest, users) {
  rest = rest.trim();
  const quoted = /^"([^"]+)"\s+(.*)$/su.exec(rest);
  if (quoted) {
    return quoted[2].trim() ? { to: quoted[1], text: quoted[2] } : null;
  }
  let best = null;
  for (const nick of users) {
    const head = rest.slice(0, nick.length);
    const after = rest.slice(nick.length);
    if (nickKey(head) === nickKey(nick) && /^\s+\S/u.test(after) &&
        (best === null || nick.length > best.length)) {
      best = nick;
    }
  }
  if (best !== null) {
    return { to: best, text: rest.slice(best.length).trim() };
  }
  const word = /^(\S+)\s+(\S.*)$/su.exec(rest);
  return word ? { to: word[1], text: word[2] } : null;
}

// byName, adları Türkçe alfabe sırasına dizer.
function byName(a, b) {
  return a.localeCompare(b, 'tr');
}

function main() {
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`hata: ${e.message}\n\n${usage()}\n`);
    process.exit(2);
  }
  if (opts.help) {
    process.stdout.write(usage() + '\n');
    return;
  }

  const version = require('socket.io-client/package.json').version;
  if (version !== PINNED_VERSION) {
    // go-socket.io yalnızca Engine.IO 3 protokolünü konuşur: 3.x ve üstü
    // istemciler bağlanamaz. Kökte `npm ci` doğru sürümü kurar.
    process.stderr.write(`uyarı: socket.io-client ${version} kurulu, ` +
      `bu sunucu ${PINNED_VERSION} bekliyor; depo kökünde \`npm ci\` çalıştırın\n`);
  }

  const interactive = Boolean(process.stdin.isTTY && process.stdout.isTTY);
  const clientOpts = {
    // Birden çok istemcinin aynı bağlantıyı paylaşmasını önler.
    forceNew: true,
  };
  if (opts.transport) {
    clientOpts.transports = [opts.transport];
  }
  // İstenen takma ad el sıkışmada sorgu parametresi olarak gider; sunucu
  // bizi doğrudan o adla karşılar (socket.io-client 2.x'te `auth` yoktur).
  if (opts.nick) {
    clientOpts.query = { nick: opts.nick };
  }
  const socket = io(opts.url, clientOpts);

  const rl = readline.createInterface({
    input: process.stdin,
    output: interactive ? process.stdout : undefined,
    terminal: interactive,
  });
  if (interactive) {
    rl.setPrompt('> ');
  }

  let closing = false;

  // Sohbetin durumu. myNick, sunucunun bize verdiği takma addır; users,
  // çevrimiçi olanların adlarıdır. İkisini de "welcome" kurar, sonraki
  // olaylar günceller. wantedNick, istediğimiz addır (--nick ya da kabul
  // edilen son /ad); her yeniden bağlanmada onu isteriz.
  let myNick = '';
  let wantedNick = opts.nick;
  let users = new Set();
  // lastId, yazdığımız en büyük mesaj kimliğidir: adım 09'dan sonra her
  // mesaj bir kimlik taşır ve yeni bağlanan önce geçmişi alır. Yeniden
  // bağlanırken onu "offset" olarak göndeririz; sunucu yalnızca
  // kaçırdıklarımızı yollar, gördüklerimizi yinelemez.
  let lastId = 0;
  // welcomed, bu bağlantıda "welcome" geldi demektir; noWelcome, beklenip
  // gelmediği (sunucu adım 07'den önceki bir adım) demektir.
  let welcomed = false;
  let noWelcome = false;

  // Gönderilecek satırlar önce bu kuyruğa girer ve bağlantı hazır olunca
  // sırayla gönderilir. "Hazır", bağlı olmak ve taşıma yükseltmesinin
  // (polling'den websocket'e) bitmiş olması demektir: go-socket.io
  // yükseltme sırasında polling'i erkenden duraklatır ve o anda gelen
  // POST isteğini 400 ile reddeder; mesaj da bağlantı da gider.
  // Kuyruktakiler işlevlerdir: bir satırın mesajını ya da komutunu
  // gönderirler.
  const outbox = [];
  let ready = false;
  let onReady = null; // girdi bitince hazır olmayı bekleyen işlev
  // held, kuyruğu bir komutun tuttuğunu söyler (afterWelcome): sonraki
  // satırlar da sıralarını korusun diye bekler.
  let held = false;
  // pending, yanıtı beklenen komutların sayısıdır; girdi bitince hepsinin
  // yanıtı yazılmadan çıkmayız.
  let pending = 0;
  let onAnswered = null;
  // waiter, kuyruğu tutan komutun devamıdır (afterWelcome).
  let waiter = null;

  function flush() {
    if (waiter && (welcomed || noWelcome) && pending === 1) {
      waiter(); // kendisi de flush'ı çağırır
      return;
    }
    while (ready && !held && outbox.length > 0) {
      outbox.shift()();
    }
    if (ready && !held && outbox.length === 0 && onReady) {
      const f = onReady;
      onReady = null;
      f();
    }
    if (pending === 0 && onAnswered) {
      const f = onAnswered;
      onAnswered = null;
      f();
    }
  }

  // say, bir durum satırını stderr'e yazar; etkileşimli kullanımda yazılmakta
  // olan satırı bozmadan istemi yeniden çizer.
  function say(stream, line) {
    if (interactive) {
      readline.clearLine(process.stdout, 0);
      readline.cursorTo(process.stdout, 0);
    }
    stream.write(line + '\n');
    if (interactive && !closing) {
      rl.prompt(true);
    }
  }

  // note, sohbetin durumuyla ilgili bir satırı (katılma, ayrılma, komut
  // sonuçları) stderr'e yazar: stdout'ta yalnızca mesajlar kalır.
  function note(line) {
    say(process.stderr, line);
  }

  // ask, bir olayı onay isteyerek gönderir ve onayı onAnswer'a verir. Onay
  // ANSWER_WAIT_MS içinde gelmezse nedenini tahmin edip söyler: olayı
  // tanımayan bir sunucu (since'ten önceki bir adım) hiç yanıt vermez.
  function ask(event, args, since, onAnswer) {
    pending++;
    let answered = false;
    const timer = setTimeout(() => {
      answered = true;
      note(`"${event}" olayına yanıt gelmedi; bu sunucu onu tanımıyor olabilir ` +
        `(adım ${since} ve sonrası tanır)`);
      pending--;
      flush();
    }, ANSWER_WAIT_MS);
    timer.unref();
    socket.emit(event, ...args, (ack) => {
      if (answered) return;
      answered = true;
      clearTimeout(timer);
      onAnswer(ack !== null && typeof ack === 'object' ? ack : { ok: false, error: printable(ack) });
      pending--;
      flush();
    });
  }

  // afterWelcome, f'yi bu bağlantının "welcome"ı ve önceki komutların
  // yanıtları geldikten sonra çağırır: takma adımız ve çevrimiçi listesi
  // onlardan gelir. Bu sırada kuyruk bekler; sonraki satırlar sıralarını
  // korur. "welcome" ANSWER_WAIT_MS içinde gelmezse sunucu onu
  // göndermiyordur; f(false) çağrılır.
  function afterWelcome(f) {
    pending++;
    held = true;
    const timer = setTimeout(() => {
      noWelcome = !welcomed;
      waiter();
    }, ANSWER_WAIT_MS);
    timer.unref();
    waiter = () => {
      clearTimeout(timer);
      waiter = null;
      held = false;
      f(welcomed);
      pending--;
      flush();
    };
    flush();
  }

  // renamed, sunucunun kabul ettiği yeni adımızı listeye de yazar. Onay,
  // herkese giden "nickname changed" olayından önce gelebilir.
  function renamed(nick) {
    users.delete(myNick);
    users.add(nick);
    myNick = nick;
  }

  // NO_LIST, sunucu çevrimiçi listesini göndermiyorsa yazılır.
  const NO_LIST = 'bu sunucu takma adları ve çevrimiçi listesini bilmiyor (adım 07 ve sonrası bilir)';

  // send, bir satırı kuyruğa koyar: boş satırlar atlanır, / ile başlayanlar
  // komuttur, gerisi mesajdır.
  function send(line) {
    if (line.trim() === '') {
      return;
    }
    if (!line.startsWith('/') || line.startsWith('//')) {
      const text = line.startsWith('//') ? line.slice(1) : line;
      outbox.push(() => socket.emit('chat message', text));
      flush();
      return;
    }
    const m = /^\/(\S+)\s*(.*)$/su.exec(line);
    const name = m ? m[1].toLocaleLowerCase('tr') : '';
    const rest = m ? m[2] : '';
    if (name === 'ad') {
      const nick = rest.trim();
      outbox.push(() => {
        if (nick === '') {
          afterWelcome((ok) => note(ok ? `takma adınız: ${printable(myNick)}` : NO_LIST));
          return;
        }
        ask('set nickname', [nick], '07', (ack) => {
          if (ack.ok) {
            renamed(String(ack.nick));
            wantedNick = myNick;
            note(`takma adınız artık ${printable(ack.nick)}`);
          } else {
            note(`takma ad seçilemedi: ${printable(ack.error)}.`);
          }
        });
      });
    } else if (name === 'kim') {
      outbox.push(() => afterWelcome((ok) => {
        if (!ok) {
          note(NO_LIST);
          return;
        }
        const list = [...users].sort(byName).map((nick) =>
          printable(nick) + (nick === myNick ? ' (siz)' : ''));
        note(`çevrimiçi (${list.length}): ${list.join(', ')}`);
      }));
    } else if (name === 'ozel' || name === 'özel') {
      if (splitRecipient(rest, []) === null) {
        note('kullanım: /ozel AD metin (boşluklu adı tırnağa alın: /ozel "Ayşe Yılmaz" selam)');
        return;
      }
      // Alıcıyı, çevrimiçi listesi geldikten sonra ayırırız: boşluklu
      // adlar listeden bulunur.
      outbox.push(() => afterWelcome((ok) => {
        if (!ok) {
          note(`özel mesaj gönderilmedi: ${NO_LIST}`);
          return;
        }
        const { to, text } = splitRecipient(rest, users);
        ask('private message', [{ to, text }], '08', (ack) => {
          if (!ack.ok) {
            note(`özel mesaj gönderilmedi: ${printable(ack.error)}.`);
          }
        });
      }));
    } else if (name === 'yardim' || name === 'yardım' || name === '?') {
      note(COMMANDS);
      return;
    } else {
      note(`bilinmeyen komut: /${printable(name)}; komutlar için /yardim yazın ` +
        '(/ ile başlayan bir mesaj için başına bir / daha koyun)');
      return;
    }
    flush();
  }

  // Başkalarının "yazıyor…" bildirimleri yalnızca etkileşimli kullanımda,
  // istemin başında görünür: ayrı satır tutmazlar, yazdığınız satır
  // bozulmaz. typingNow, şu an yazanların adından zamanlayıcısınadır.
  const typingNow = new Map();
  function setTyping(nick, typing) {
    if (!interactive || typeof nick !== 'string') return;
    clearTimeout(typingNow.get(nick));
    typingNow.delete(nick);
    if (typing) {
      const timer = setTimeout(() => setTyping(nick, false), TYPING_FORGET_MS);
      timer.unref();
      typingNow.set(nick, timer);
    }
    const names = [...typingNow.keys()].sort(byName).map(printable);
    let who = '';
    if (names.length === 1) {
      who = names[0];
    } else if (names.length === 2) {
      who = `${names[0]} ve ${names[1]}`;
    } else if (names.length > 2) {
      who = `${names[0]}, ${names[1]} ve ${names.length - 2} kişi daha`;
    }
    rl.setPrompt(who ? `(${who} yazıyor…) > ` : '> ');
    if (!closing) rl.prompt(true);
  }

  // Her yeni Engine.IO bağlantısında (ilk bağlantı ve her yeniden
  // bağlanma) yükseltmenin sonucunu izleriz.
  let upgradeSettled = false;
  socket.io.on('open', () => {
    const engine = socket.io.engine;
    upgradeSettled = !(engine.upgrade && engine.transport.name === 'polling' &&
      engine.upgrades.length > 0);
    const settle = () => {
      upgradeSettled = true;
      if (socket.connected) {
        ready = true;
        flush();
      }
    };
    engine.once('upgrade', (transport) => {
      say(process.stderr, `taşıma yükseltildi: ${transport.name}`);
      settle();
    });
    engine.once('upgradeError', settle);
  });

  socket.on('connect', () => {
    say(process.stderr, `bağlandı: ${opts.url} (taşıma: ${socket.io.engine.transport.name})`);
    if (upgradeSettled) {
      ready = true;
      flush();
    }
  });
  socket.on('chat message', (msg) => {
    // Adım 07'den sonra mesaj bir nesnedir: {from, text, at}. Önceki
    // adımlar yalnızca metni gönderir.
    if (msg !== null && typeof msg === 'object') {
      if (Number.isSafeInteger(msg.id) && msg.id > lastId) lastId = msg.id;
      setTyping(msg.from, false);
      say(process.stdout, `${printable(msg.from)}: ${printable(msg.text)}`);
      return;
    }
    say(process.stdout, printable(msg));
  });
  socket.on('private message', (msg) => {
    if (msg === null || typeof msg !== 'object') return;
    setTyping(msg.from, false);
    say(process.stdout, `[özel] ${printable(msg.from)} → ${printable(msg.to)}: ${printable(msg.text)}`);
  });

  // Her bağlanışta (yeniden bağlanınca da) sunucu önce takma adımızı ve
  // çevrimiçi listesini gönderir. İstediğimiz ad verilmediyse (geçersiz ya
  // da o an başkasında) onu bir kez daha isteriz: reddedilirse nedenini
  // onay söyler.
  socket.on('welcome', (data) => {
    if (data === null || typeof data !== 'object') return;
    myNick = String(data.nick);
    users = new Set(Array.isArray(data.users) ? data.users.map(String) : []);
    welcomed = true;
    // Sunucunun bildiği en büyük kimlik bizimkinden küçükse geçmiş
    // silinmiştir (adım 09): kimlikler baştan sayılır.
    if (Number.isSafeInteger(data.last) && data.last < lastId) lastId = 0;
    note(`takma adınız: ${printable(myNick)} · çevrimiçi ${users.size} kişi ` +
      '(liste için /kim, komutlar için /yardim)');
    if (wantedNick && normalizeNick(wantedNick) !== myNick) {
      ask('set nickname', [wantedNick], '07', (ack) => {
        if (ack.ok) {
          renamed(String(ack.nick));
          note(`takma adınız artık ${printable(ack.nick)}`);
        } else {
          note(`takma ad seçilemedi: ${printable(ack.error)}. /ad ile başka bir ad seçebilirsiniz.`);
        }
      });
    }
    flush();
  });
  socket.on('user joined', (data) => {
    if (data === null || typeof data !== 'object') return;
    users.add(String(data.nick));
    note(`* ${printable(data.nick)} katıldı.`);
  });
  socket.on('user left', (data) => {
    if (data === null || typeof data !== 'object') return;
    users.delete(String(data.nick));
    setTyping(data.nick, false);
    note(`* ${printable(data.nick)} ayrıldı.`);
  });
  socket.on('nickname changed', (data) => {
    if (data === null || typeof data !== 'object') return;
    const from = String(data.from);
    const to = String(data.to);
    users.delete(from);
    users.add(to);
    if (typingNow.has(from)) {
      setTyping(from, false);
      setTyping(to, true);
    }
    if (from === myNick) {
      myNick = to;
    }
    note(`* ${printable(from)} artık ${printable(to)} adını kullanıyor.`);
  });
  socket.on('typing', (data) => {
    if (data === null || typeof data !== 'object') return;
    setTyping(data.nick, data.typing === true);
  });
  // Sunucunun yalnızca bize gönderdiği bildirimler: reddedilen bir mesaj
  // ya da yeniden başlatma.
  socket.on('chat notice', (text) => {
    note(`sunucu: ${printable(text)}`);
  });

  socket.on('disconnect', (reason) => {
    ready = false;
    welcomed = false;
    noWelcome = false;
    for (const timer of typingNow.values()) clearTimeout(timer);
    typingNow.clear();
    if (interactive) rl.setPrompt('> ');
    if (!closing) {
      say(process.stderr, `bağlantı koptu: ${reason}`);
    }
  });
  socket.on('connect_error', (err) => {
    say(process.stderr, `bağlantı hatası: ${err && err.message ? err.message : err}`);
  });
  socket.on('reconnect_attempt', (n) => {
    // Yeniden bağlanırken de adımızı isteriz: istediğimiz ad, yoksa
    // şimdiki ad (misafir adı da olsa). Sayfa da böyle yapar. Gördüğümüz
    // son mesajın kimliği de gider (adım 09).
    const query = {};
    const nick = wantedNick || myNick;
    if (nick) query.nick = nick;
    if (lastId > 0) query.offset = String(lastId);
    socket.io.opts.query = query;
    say(process.stderr, `yeniden bağlanılıyor (deneme ${n})…`);
  });
  socket.on('error', (err) => {
    say(process.stderr, `hata: ${err && err.message ? err.message : err}`);
  });

  rl.on('line', (line) => {
    send(line);
    if (interactive) rl.prompt();
  });

  // Girdi bittiğinde (Ctrl+D ya da yönlendirilen dosyanın sonu) kuyruktaki
  // her satırın gerçekten sunucuya ulaşmasını ve komutların yanıtını
  // bekleyip öyle çıkarız.
  rl.on('close', () => {
    if (closing) return;
    closing = true;
    if (interactive) process.stdout.write('\n');
    const timer = setTimeout(() => {
      process.stderr.write(`sunucuya bağlanılamadı; ${outbox.length} mesaj gönderilemedi\n`);
      process.exit(1);
    }, CONNECT_WAIT_MS);
    onReady = () => {
      clearTimeout(timer);
      onAnswered = finish;
    };
    flush();
  });

  // finish, bağlantıyı düzgünce kapatır. Engine.IO soketi kapanmadan önce
  // yazma tamponunun boşalmasını ('drain') bekler: websocket'te çerçeveler
  // kapanış çerçevesinden önce yazılmış, polling'de POST isteği sunucudan
  // yanıt almış olur. Sonra Node, açık bağlantı kalmayınca kendiliğinden
  // çıkar; kapanış el sıkışması takılırsa süre sınırı devreye girer.
  function finish() {
    const engine = socket.io.engine;
    engine.once('close', () => {
      setTimeout(() => process.exit(0), CLOSE_WAIT_MS).unref();
    });
    socket.close();
  }

  // interrupt, Ctrl+C'de bağlantıyı kapatıp çıkar; ikinci Ctrl+C beklemeden
  // çıkar.
  function interrupt() {
    if (interactive) process.stdout.write('\n');
    if (closing || !ready) {
      process.exit(0);
    }
    closing = true;
    rl.close();
    finish();
  }
  // Etkileşimli terminalde Ctrl+C readline'a gelir, aksi halde bir sinyaldir.
  rl.on('SIGINT', interrupt);
  process.on('SIGINT', interrupt);
  process.on('SIGTERM', interrupt);

  if (interactive) rl.prompt();
}

main();
