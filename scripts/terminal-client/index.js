#!/usr/bin/env node
// Terminal sohbet istemcisi: kursun sunucusuna resmi socket.io-client 2.5.0
// ile bağlanır, gelen "chat message" olaylarını satır satır yazar ve
// standart girdiden okunan her satırı "chat message" olarak gönderir.
//
//   node scripts/terminal-client [URL] [--transport websocket|polling]
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

function usage() {
  return [
    'Kullanım: node scripts/terminal-client [URL] [--transport websocket|polling]',
    '',
    `  URL          sunucunun adresi (varsayılan: ${DEFAULT_URL})`,
    '  --transport  yalnızca bu taşıma yöntemini kullan; verilmezse',
    '               önce polling ile bağlanılır, sonra websocket\'e yükseltilir',
    '  -h, --help   bu yardımı göster',
    '',
    'Her satır "chat message" olarak gönderilir; boş satırlar atlanır.',
    'Çıkmak için Ctrl+D (girdinin sonu) ya da Ctrl+C.',
  ].join('\n');
}

function parseArgs(argv) {
  const opts = { url: DEFAULT_URL, transport: null };
  let sawURL = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '-h' || arg === '--help') {
      return { help: true };
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

  // Gönderilecek satırlar önce bu kuyruğa girer ve bağlantı hazır olunca
  // sırayla gönderilir. "Hazır", bağlı olmak ve taşıma yükseltmesinin
  // (polling'den websocket'e) bitmiş olması demektir: go-socket.io
  // yükseltme sırasında polling'i erkenden duraklatır ve o anda gelen
  // POST isteğini 400 ile reddeder; mesaj da bağlantı da gider.
  const outbox = [];
  let ready = false;
  let onReady = null; // girdi bitince hazır olmayı bekleyen işlev

  function flush() {
    while (ready && outbox.length > 0) {
      socket.emit('chat message', outbox.shift());
    }
    if (ready && onReady) {
      const f = onReady;
      onReady = null;
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
    say(process.stdout, printable(msg));
  });
  socket.on('disconnect', (reason) => {
    ready = false;
    if (!closing) {
      say(process.stderr, `bağlantı koptu: ${reason}`);
    }
  });
  socket.on('connect_error', (err) => {
    say(process.stderr, `bağlantı hatası: ${err && err.message ? err.message : err}`);
  });
  socket.on('reconnect_attempt', (n) => {
    say(process.stderr, `yeniden bağlanılıyor (deneme ${n})…`);
  });
  socket.on('error', (err) => {
    say(process.stderr, `hata: ${err && err.message ? err.message : err}`);
  });

  rl.on('line', (line) => {
    if (line.trim() !== '') {
      outbox.push(line);
      flush();
    }
    if (interactive) rl.prompt();
  });

  // Girdi bittiğinde (Ctrl+D ya da yönlendirilen dosyanın sonu) kuyruktaki
  // her satırın gerçekten sunucuya ulaşmasını bekleyip öyle çıkarız.
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
      finish();
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
