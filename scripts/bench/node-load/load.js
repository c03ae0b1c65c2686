// Load driver made of the official socket.io-client 2.5.0: the client that
// the course's page loads in the browser, run N times in one Node process.
// It measures what scripts/loadtest measures (delivery, loss, duplicates,
// latency, drops) and prints one JSON line with the same field names, so
// that a browser-like client's view can be compared with the Go tool's.
//
// Run from anywhere after `npm ci` at the repository root:
//   node scripts/bench/node-load/load.js --url http://127.0.0.1:3000 \
//     --clients 100 --senders 10 --rate 200 --duration 10s --warmup 3s \
//     --transports polling
//   node scripts/bench/node-load/load.js --help
//
// Each of the first --senders clients emits "chat message" strings
// "loadtest <run> <sender> <seq> <m|w> <sent-µs>" at --rate messages per
// second in total: for --warmup (not measured), then for --duration. Every
// client counts what it receives (a string, or an object with a "text"
// field), so each message is expected once per connected client. Clients
// never reconnect: a connection the server drops is counted in
// "disconnects" and stays down.
'use strict';

const http = require('http');
const https = require('https');
const path = require('path');
const { parseArgs } = require('util');
const { performance } = require('perf_hooks');
const crypto = require('crypto');

const CLIENT_VERSION = '2.5.0';
const modules = path.join(__dirname, '..', '..', '..', 'node_modules');

// Bounds that keep a run from turning into an attack by mistake.
const MAX_CLIENTS = 2000;
const MAX_SECONDS = 600;
const MAX_RATE = 100000;

const usage = `load.js: load a chat server with official socket.io-client ${CLIENT_VERSION} clients.

Options:
  --url URL             server base URL (default http://127.0.0.1:3000)
  --clients N           connections, 1..${MAX_CLIENTS} (default 100)
  --senders S           how many of the clients send, 0..N (default 10)
  --rate R              messages per second, all senders together (default 50)
  --duration D          measured sending time (default 10s; 500ms, 2s, 1m or seconds)
  --warmup W            sending time before the measurement (default 2s)
  --drain D             longest wait for the last deliveries (default 10s)
  --settle D            pause after connecting, before sending (default 1s)
  --transports T        polling, websocket or default (polling, then upgrade)
  --connect-rate C      new connections per second (default 500)
  --connect-timeout D   longest time for the connect phase (default 2m)
  --event NAME          event to send and count (default "chat message")
  --label TEXT          name of the server under test, copied into the result
  --shape NAME          name of the load shape, copied into the result
  --max-loss P          loss in percent above which the exit status is 1 (default 0)
  --progress D          interval of the progress line on stderr (default 0: none)
  --allow-remote        allow a host other than loopback (servers you run yourself only)
  --help                this text

Runs are bounded: at most ${MAX_CLIENTS} clients, ${MAX_SECONDS / 60} minutes of sending and
${MAX_RATE} messages per second. Exit status: 0 when every client connected and
stayed and loss is within --max-loss; 1 otherwise; 2 on bad options.
`;

// parseDuration reads "500ms", "2s", "1m", "1m30s" or a plain number of
// seconds, and returns milliseconds.
function parseDuration(name, s) {
  if (/^\d+(\.\d+)?$/.test(s)) return Number(s) * 1000;
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;
  let total = 0;
  let used = 0;
  for (const m of s.matchAll(re)) {
    total += Number(m[1]) * { ms: 1, s: 1000, m: 60000, h: 3600000 }[m[2]];
    used += m[0].length;
  }
  if (used === 0 || used !== s.length) throw new Error(`--${name} ${JSON.stringify(s)}: want a duration such as 500ms, 2s or 1m`);
  return total;
}

function parseNumber(name, s, integer) {
  const n = Number(s);
  if (s.trim() === '' || !Number.isFinite(n) || (integer && !Number.isInteger(n))) {
    throw new Error(`--${name} ${JSON.stringify(s)}: want ${integer ? 'an integer' : 'a number'}`);
  }
  return n;
}

function isLoopback(host) {
  host = host.replace(/^\[|\]$/g, '');
  return host.toLowerCase() === 'localhost' || /^127\.\d+\.\d+\.\d+$/.test(host) || host === '::1';
}

// parseOptions turns argv into a validated configuration, or throws.
function parseOptions(argv) {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      url: { type: 'string', default: 'http://127.0.0.1:3000' },
      clients: { type: 'string', default: '100' },
      senders: { type: 'string', default: '10' },
      rate: { type: 'string', default: '50' },
      duration: { type: 'string', default: '10s' },
      warmup: { type: 'string', default: '2s' },
      drain: { type: 'string', default: '10s' },
      settle: { type: 'string', default: '1s' },
      transports: { type: 'string', default: 'default' },
      'connect-rate': { type: 'string', default: '500' },
      'connect-timeout': { type: 'string', default: '2m' },
      event: { type: 'string', default: 'chat message' },
      label: { type: 'string', default: '' },
      shape: { type: 'string', default: '' },
      'max-loss': { type: 'string', default: '0' },
      progress: { type: 'string', default: '0' },
      'allow-remote': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) return { help: true };
  const o = {
    url: values.url,
    clients: parseNumber('clients', values.clients, true),
    senders: parseNumber('senders', values.senders, true),
    rate: parseNumber('rate', values.rate, false),
    durationMs: parseDuration('duration', values.duration),
    warmupMs: parseDuration('warmup', values.warmup),
    drainMs: parseDuration('drain', values.drain),
    settleMs: parseDuration('settle', values.settle),
    transports: values.transports,
    connectRate: parseNumber('connect-rate', values['connect-rate'], false),
    connectTimeoutMs: parseDuration('connect-timeout', values['connect-timeout']),
    event: values.event,
    label: values.label,
    shape: values.shape,
    maxLoss: parseNumber('max-loss', values['max-loss'], false),
    progressMs: parseDuration('progress', values.progress),
  };
  let u;
  try {
    u = new URL(o.url);
  } catch {
    throw new Error(`--url ${JSON.stringify(o.url)}: want a URL such as http://127.0.0.1:3000`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new Error(`--url ${JSON.stringify(o.url)}: scheme must be http or https`);
  }
  if (!values['allow-remote'] && !isLoopback(u.hostname)) {
    throw new Error(`--url ${JSON.stringify(o.url)} is not a loopback address; load only servers you run yourself, and say so with --allow-remote`);
  }
  o.https = u.protocol === 'https:';
  if (!['polling', 'websocket', 'default'].includes(o.transports)) {
    throw new Error(`--transports ${JSON.stringify(o.transports)}: want polling, websocket or default`);
  }
  if (o.clients < 1 || o.clients > MAX_CLIENTS) throw new Error(`--clients ${o.clients}: want 1..${MAX_CLIENTS}`);
  if (o.senders < 0 || o.senders > o.clients) throw new Error(`--senders ${o.senders}: want 0..clients (${o.clients})`);
  if (o.senders > 0 && (o.rate <= 0 || o.rate > MAX_RATE)) throw new Error(`--rate ${o.rate}: want more than 0 and at most ${MAX_RATE}`);
  if (o.durationMs + o.warmupMs > MAX_SECONDS * 1000) throw new Error(`--duration + --warmup: want at most ${MAX_SECONDS / 60}m`);
  if (o.drainMs > MAX_SECONDS * 1000 || o.settleMs > MAX_SECONDS * 1000) throw new Error(`--drain and --settle: want at most ${MAX_SECONDS / 60}m each`);
  if (o.connectTimeoutMs <= 0 || o.connectTimeoutMs > MAX_SECONDS * 1000) throw new Error(`--connect-timeout: want more than 0 and at most ${MAX_SECONDS / 60}m`);
  if (o.connectRate <= 0) throw new Error(`--connect-rate ${o.connectRate}: want more than 0`);
  if (o.senders === 0) o.rate = 1; // unused; keeps the sender interval finite
  return o;
}

// Histogram is the Go tool's log-linear histogram of microseconds: values
// below 128 µs are exact; above, each power of two is split into 64
// buckets, so a percentile is at most 1.6% above the recorded value.
class Histogram {
  constructor() {
    this.counts = new Float64Array(2048);
    this.n = 0;
    this.max = 0;
    this.sum = 0;
  }

  static bucketOf(us) {
    if (us < 128) return us;
    const len = us < 2 ** 32 ? 32 - Math.clz32(us) : Math.floor(Math.log2(us)) + 1;
    const exp = len - 7;
    const sub = Math.floor(us / 2 ** exp) - 64;
    return 128 + (exp - 1) * 64 + sub;
  }

  static bucketHigh(i) {
    if (i < 128) return i;
    const exp = Math.floor((i - 128) / 64) + 1;
    const sub = ((i - 128) % 64) + 64;
    return (sub + 1) * 2 ** exp - 1;
  }

  record(us) {
    us = Math.max(0, Math.round(us));
    const b = Histogram.bucketOf(us);
    if (b >= this.counts.length) {
      const n = new Float64Array(b + 1 + 128);
      n.set(this.counts);
      this.counts = n;
    }
    this.counts[b]++;
    this.n++;
    this.sum += us;
    if (us > this.max) this.max = us;
  }

  // quantile returns microseconds at quantile q, never above the maximum.
  quantile(q) {
    if (this.n === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.n));
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i];
      if (seen >= rank) return Math.min(Histogram.bucketHigh(i), this.max);
    }
    return this.max;
  }
}

// Bitset remembers which sequence numbers of one sender a client has seen.
class Bitset {
  constructor() {
    this.words = new Uint32Array(4);
  }

  // set marks seq and reports whether it was already marked.
  set(seq) {
    const w = seq >>> 5;
    if (w >= this.words.length) {
      const n = new Uint32Array(Math.max(w + 1, this.words.length * 2));
      n.set(this.words);
      this.words = n;
    }
    const bit = 1 << (seq & 31);
    const had = (this.words[w] & bit) !== 0;
    this.words[w] |= bit;
    return had;
  }
}

const now = () => performance.now(); // ms, monotonic, one clock for all clients
const wait = (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

async function run(o) {
  const pkg = require(path.join(modules, 'socket.io-client', 'package.json'));
  if (pkg.version !== CLIENT_VERSION) {
    throw new Error(`socket.io-client ${pkg.version} is installed; this driver needs ${CLIENT_VERSION} (run npm ci at the repository root)`);
  }
  const io = require(path.join(modules, 'socket.io-client'));

  const id = crypto.randomBytes(4).toString('hex');
  const base = now();
  const res = {
    label: o.label || undefined,
    shape: o.shape || undefined,
    driver: `socket.io-client ${pkg.version}`,
    url: o.url,
    protocol: 'socketio',
    transport: o.transports,
    clients: o.clients,
    senders: o.senders,
    rate: o.rate,
    duration_s: o.durationMs / 1000,
    warmup_s: o.warmupMs / 1000,
    started: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
  };

  let firstError = '';
  const noteErr = (msg) => {
    if (!firstError) firstError = msg;
  };
  const lat = new Histogram();
  let phase = 'connecting';
  let closing = false;
  let sent = 0;
  let warm = 0;
  let sendErrors = 0;
  let delivered = 0; // measured unique deliveries
  let received = 0; // all unique deliveries, warm-up included
  let duplicates = 0;
  let foreign = 0;
  let disconnects = 0;
  let lastAt = 0;
  let warmEnd = Infinity;

  // onMessage handles one received payload on client c.
  const onMessage = (c, msg) => {
    const at = now();
    const text = typeof msg === 'string' ? msg : msg && typeof msg.text === 'string' ? msg.text : null;
    const f = text === null ? [] : text.split(' ', 6);
    if (f.length < 6 || f[0] !== 'loadtest' || f[1] !== id) {
      foreign++;
      return;
    }
    const sender = Number(f[2]);
    const seq = Number(f[3]);
    const sentUs = Number(f[5]);
    if (!Number.isInteger(sender) || sender < 0 || sender >= o.senders || !Number.isInteger(seq) || seq < 0 || !Number.isFinite(sentUs)) {
      foreign++;
      return;
    }
    if (c.seen[sender].set(seq)) {
      duplicates++;
      return;
    }
    received++;
    if (f[4] !== 'm') return;
    lat.record((at - base) * 1000 - sentUs);
    delivered++;
    if (at > lastAt) lastAt = at;
  };

  // Each client gets its own keep-alive agent, as each browser tab has its
  // own connections: without one, every long-polling request would open a
  // new TCP connection.
  const transports = o.transports === 'default' ? ['polling', 'websocket'] : [o.transports];
  const Agent = o.https ? https.Agent : http.Agent;
  const clients = [];
  let connected = 0;
  let failed = 0;
  const connectHist = new Histogram();

  const dial = (i) =>
    new Promise((resolve) => {
      const c = { idx: i, seen: Array.from({ length: o.senders }, () => new Bitset()), up: false, socket: null };
      const agent = new Agent({ keepAlive: true, maxSockets: 2 });
      const start = now();
      const socket = io(o.url, {
        forceNew: true, // one Engine.IO connection per client, no multiplexing
        reconnection: false, // a dropped client stays dropped and is counted
        transports,
        timeout: o.connectTimeoutMs,
        agent,
      });
      c.socket = socket;
      c.agent = agent;
      let settled = false;
      const fail = (why) => {
        if (settled) return;
        settled = true;
        failed++;
        noteErr(`client ${i} could not connect: ${why}`);
        socket.close();
        resolve();
      };
      socket.on('connect', () => {
        if (settled) return;
        settled = true;
        c.up = true;
        connected++;
        connectHist.record((now() - start) * 1000);
        clients[i] = c;
        resolve();
      });
      socket.on('connect_error', (err) => fail(err && err.message ? err.message : String(err)));
      socket.on('connect_timeout', () => fail('timeout'));
      socket.on('error', (err) => noteErr(`client ${i}: ${err && err.message ? err.message : String(err)}`));
      socket.on('disconnect', (reason) => {
        if (!c.up) return;
        c.up = false;
        if (!closing) {
          disconnects++;
          noteErr(`client ${i} dropped: ${reason}`);
        }
      });
      socket.on(o.event, (msg) => onMessage(c, msg));
    });

  let progressTimer = null;
  if (o.progressMs > 0) {
    progressTimer = setInterval(() => {
      let p = phase;
      if (p === 'send') p = now() < warmEnd ? 'warm-up' : 'measure';
      const t = ((now() - base) / 1000).toFixed(1);
      process.stderr.write(
        `[${t.padStart(5)}s ${p.padEnd(10)}] conn ${connected}/${o.clients} fail ${failed} | sent ${sent}+${warm}w err ${sendErrors} | ` +
          `recv ${received} dup ${duplicates} | drop ${disconnects} | p50 ${(lat.quantile(0.5) / 1000).toFixed(1)} p99 ${(lat.quantile(0.99) / 1000).toFixed(1)} ms\n`,
      );
    }, o.progressMs);
  }

  // Connect at --connect-rate; give up on the stragglers at --connect-timeout.
  const connectStart = now();
  const dials = [];
  for (let i = 0; i < o.clients; i++) {
    await wait(connectStart + (i * 1000) / o.connectRate - now());
    if (now() - connectStart > o.connectTimeoutMs) {
      failed += o.clients - i;
      noteErr('connect phase: timeout');
      break;
    }
    dials.push(dial(i));
  }
  await Promise.all(dials);
  res.connect_s = (now() - connectStart) / 1000;
  res.connected = connected;
  res.connect_failures = failed;
  res.connect_p50_ms = connectHist.quantile(0.5) / 1000;
  res.connect_p99_ms = connectHist.quantile(0.99) / 1000;
  res.connect_max_ms = connectHist.max / 1000;

  const finish = () => {
    res.sent = sent;
    res.send_errors = sendErrors;
    res.delivered = delivered;
    res.lost = Math.max((res.expected || 0) - delivered, 0);
    res.loss_pct = res.expected > 0 ? (100 * res.lost) / res.expected : 0;
    res.duplicates = duplicates;
    res.disconnects = disconnects;
    res.foreign = foreign;
    // Deliveries over the time they took to arrive: from the start of the
    // measured window to the last delivery, at least the window.
    let window = o.durationMs;
    if (lastAt > 0) window = Math.max(window, lastAt - warmEnd);
    res.delivered_per_s = window > 0 ? delivered / (window / 1000) : 0;
    res.p50_ms = lat.quantile(0.5) / 1000;
    res.p90_ms = lat.quantile(0.9) / 1000;
    res.p99_ms = lat.quantile(0.99) / 1000;
    res.max_ms = lat.max / 1000;
    res.mean_ms = lat.n > 0 ? lat.sum / lat.n / 1000 : 0;
    if (firstError) res.first_error = firstError;
    return res;
  };

  const closeAll = () => {
    closing = true;
    if (progressTimer) clearInterval(progressTimer);
    for (const c of clients) {
      if (!c) continue;
      c.socket.close();
      c.agent.destroy();
    }
  };

  if (connected === 0) {
    res.expected = 0;
    closeAll();
    return finish();
  }

  phase = 'idle';
  await wait(o.settleMs);

  // Send: warm-up, then the measured window, each sender at rate/senders.
  phase = 'send';
  const perSender = (1000 * o.senders) / o.rate;
  const sendStart = now();
  warmEnd = sendStart + o.warmupMs;
  const sendEnd = warmEnd + o.durationMs;
  const senders = [];
  for (let s = 0; s < o.senders; s++) {
    const c = clients[s];
    if (!c) continue;
    senders.push(
      (async () => {
        // Stagger the senders evenly over one interval.
        let next = sendStart + (s * perSender) / o.senders;
        for (let seq = 0; next < sendEnd; seq++, next += perSender) {
          await wait(next - now());
          if (!c.up) {
            sendErrors++;
            noteErr(`sender ${s}: connection is down`);
            return;
          }
          const measured = next >= warmEnd;
          const sentUs = Math.round((now() - base) * 1000);
          c.socket.emit(o.event, `loadtest ${id} ${s} ${seq} ${measured ? 'm' : 'w'} ${sentUs}`);
          if (measured) sent++;
          else warm++;
        }
      })(),
    );
  }
  await Promise.all(senders);

  // Drain: wait until every expected delivery arrived, or --drain passes.
  phase = 'drain';
  const expected = () => sent * connected;
  const drainEnd = now() + o.drainMs;
  res.drain_timeout = false;
  while (delivered < expected()) {
    if (now() > drainEnd) {
      res.drain_timeout = true;
      break;
    }
    await wait(20);
  }
  res.expected = expected();
  finish();
  closeAll();
  return res;
}

function problems(res, maxLoss) {
  const p = [];
  if (res.connect_failures > 0) p.push(`${res.connect_failures} clients could not connect`);
  if (res.connected === 0) p.push('no client connected');
  if (res.disconnects > 0) p.push(`${res.disconnects} clients dropped during the run`);
  if (res.send_errors > 0) p.push(`${res.send_errors} sends failed`);
  if (res.loss_pct > maxLoss) p.push(`loss ${res.loss_pct.toFixed(3)}% is above --max-loss ${maxLoss}%`);
  if (p.length > 0 && res.first_error) p.push(`first error: ${res.first_error}`);
  return p;
}

async function main() {
  let o;
  try {
    o = parseOptions(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`load.js: ${err.message} (see --help)\n`);
    process.exit(2);
  }
  if (o.help) {
    process.stdout.write(usage);
    return;
  }
  const res = await run(o);
  const p = problems(res, o.maxLoss);
  for (const line of p) process.stderr.write(`load.js: ${line}\n`);
  // Writes to a pipe or a file are synchronous in Node on Linux, so the
  // line is out before exit; exit also ends any socket still closing.
  process.stdout.write(JSON.stringify(res) + '\n', () => process.exit(p.length > 0 ? 1 : 0));
}

main().catch((err) => {
  process.stderr.write(`load.js: ${err.stack || err}\n`);
  process.exit(1);
});
