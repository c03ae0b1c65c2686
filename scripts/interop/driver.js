#!/usr/bin/env node
// Interop driver: talks to a running step with the official socket.io-client
// (the version pinned in package.json) and prints one JSON object per line
// describing what happened, for the tests in this folder to check.
//
//   node scripts/interop/driver.js URL MODE SCENARIO [TEXT] [FLAGS...]
//
// MODE is how the client picks its transport:
//   default    polling first, then the upgrade to websocket (the client's default)
//   websocket  transports: ['websocket']
//   polling    transports: ['polling']
//
// SCENARIO, for every Socket.IO step (03 on):
//   connect    clients A and B connect; each reports its final transport
//              (in default mode after the upgrade), then both disconnect.
//   emit       client A connects, emits "chat message" TEXT, waits until the
//              packet has left the client (polling: the POST was answered),
//              then disconnects.
//   broadcast  A and B connect; A emits TEXT and then a closing marker; each
//              client reports every "chat message" it got until the marker.
//              Because one sender's messages reach each client in order, a
//              duplicate of TEXT would be seen before the marker.
//   churn      COUNT times in a row (TEXT is COUNT, default 40): client A
//              connects, emits a message and waits for it to come back,
//              then disconnects. In default mode that is COUNT upgrades,
//              each followed at once by traffic; any connection the server
//              drops is reported as an error.
//
// SCENARIO, for the steps with nicknames (07 on); TEXT is a word that makes
// this run's nicknames unique (S below):
//   presence   A connects as "Işık S" (the handshake's nick query); B as a
//              guest. B asks for "ışık S" (refused: taken, Turkish case) and
//              then "Çağrı S". C asks for "IŞIK S" in the handshake and gets
//              a guest name. A says "merhaba çğıİöşü S" to everyone. C, then
//              A leave. Each step waits for the others to have seen it.
//   payloads   P and O (as "Gözcü S") connect; P sends "set nickname" with
//              wrong payloads (an object, a number, null, an array, none)
//              and reports each ack. With FLAG "private" (step 08 on), Q
//              sends "private message" with wrong payloads and "typing"
//              with a string. Then P (and Q) emit a chat message that O and
//              they themselves must get: the connections stayed.
//   private    (step 08 on) A "Ali S", B "Ayşe S", C "Can S" connect. A
//              emits "typing" true, then false; B and C must see both. A
//              emits a chat marker. A whispers to B; B answers A, naming
//              her in capitals ("ALİ S"). A tries an unknown recipient and
//              itself. A emits a last chat marker that everyone must get:
//              whatever C or A would have been sent by mistake came before.
//
// FLAG second=URL (step 11 on, a cluster): every client but A connects to
// URL, another process of the same chat, instead of the first URL.
//
// Output lines (all carry "client" where it applies):
//   {"event":"connected","client":"A","transport":"polling"}
//   {"event":"upgraded","client":"A","transport":"websocket"}
//   {"event":"transport","client":"A","transport":"websocket"}   (final)
//   {"event":"sent","client":"A","text":"..."}                   (flushed)
//   {"event":"received","client":"B","text":"..."}               (steps 03-06)
//   {"event":"received","client":"B","text":"...","from":"...","at":1764672000000}
//   {"event":"got","client":"B","name":"user joined","data":{"nick":"..."}}
//   {"event":"ack","client":"B","name":"set nickname","args":["..."],"data":{"ok":true,"nick":"..."}}
//   {"event":"disconnected","client":"A","reason":"io client disconnect"}
//   {"event":"error","message":"..."}                            (then exit 1)
//   {"event":"done"}                                             (then exit 0)
//
// "received" is a "chat message": its text is the payload when that is a
// string, else the payload's "text" field. "got" is any other event the
// server sends, in the order the client got it among the "received" ones.
'use strict';

const io = require('socket.io-client');

const TIMEOUT_MS = Number(process.env.DRIVER_TIMEOUT_MS || 15000);
// ACK_TIMEOUT_MS bounds the wait for one acknowledgement, so that a missing
// ack is reported as such and not as the scenario's timeout.
const ACK_TIMEOUT_MS = 5000;
const MODES = {
  default: undefined,
  websocket: ['websocket'],
  polling: ['polling'],
};
// SERVER_EVENTS are the events besides "chat message" that a client logs.
const SERVER_EVENTS = ['welcome', 'user joined', 'user left', 'nickname changed',
  'typing', 'private message', 'chat notice'];

function out(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

function fail(message) {
  out({ event: 'error', message });
  process.exit(1);
}

const [url, mode, scenario, text, ...flags] = process.argv.slice(2);
if (!url || !(mode in MODES) || !scenario) {
  process.stderr.write('usage: driver.js URL default|websocket|polling ' +
    'connect|emit|broadcast|churn|presence|payloads|private|delivery [TEXT] [FLAGS...]\n');
  process.exit(2);
}
if (['emit', 'broadcast', 'presence', 'payloads', 'private', 'delivery'].includes(scenario) && !text) {
  fail(`scenario ${scenario} needs TEXT`);
}

// second is the other process of a cluster, for every client but A.
const second = (flags.find((f) => f.startsWith('second=')) || '').slice('second='.length);

const timer = setTimeout(() => fail(`timeout after ${TIMEOUT_MS} ms`), TIMEOUT_MS);

// chatText is the text of a "chat message" payload: the payload itself in
// steps 03-06, its "text" field from step 07 on.
function chatText(msg) {
  if (typeof msg === 'string') return msg;
  return msg && typeof msg.text === 'string' ? msg.text : undefined;
}

// open connects one client and resolves once it is connected and, in the
// default mode, once the engine has upgraded to websocket. nick, if given,
// goes into the handshake's query, as io(url, {query: {nick}}).
function open(name, nick) {
  const opts = {
    forceNew: true, // one engine connection per client, never shared
    reconnection: false, // a failure must show, not be retried away
  };
  if (MODES[mode]) opts.transports = MODES[mode];
  if (nick !== undefined) opts.query = { nick };
  const socket = io(second && name !== 'A' ? second : url, opts);
  socket.name = name;
  socket.got = []; // texts of "chat message"
  socket.log = []; // every event in order: {name, data}
  socket.on('chat message', (msg) => {
    socket.got.push(chatText(msg));
    socket.log.push({ name: 'chat message', data: msg });
    const line = { event: 'received', client: name, text: chatText(msg) };
    if (msg && typeof msg === 'object') {
      line.from = msg.from;
      line.at = msg.at;
      line.id = msg.id;
      line.clientOffset = msg.clientOffset;
    }
    out(line);
  });
  for (const ev of SERVER_EVENTS) {
    socket.on(ev, (data) => {
      socket.log.push({ name: ev, data });
      out({ event: 'got', client: name, name: ev, data });
    });
  }
  socket.on('disconnect', (reason) => {
    out({ event: 'disconnected', client: name, reason });
    if (reason !== 'io client disconnect') {
      fail(`${name}: disconnected by ${reason}`);
    }
  });
  socket.on('error', (err) => fail(`${name}: error: ${err && err.message ? err.message : err}`));
  return new Promise((resolve) => {
    socket.on('connect_error', (err) => fail(`${name}: connect_error: ${err && err.message ? err.message : err}`));
    socket.on('connect_timeout', () => fail(`${name}: connect_timeout`));
    socket.once('connect', () => {
      const engine = socket.io.engine;
      out({ event: 'connected', client: name, transport: engine.transport.name });
      engine.on('upgradeError', (err) => fail(`${name}: upgradeError: ${err && err.message ? err.message : err}`));
      if (mode !== 'default' || engine.transport.name === 'websocket') {
        resolve(socket);
        return;
      }
      engine.once('upgrade', (transport) => {
        out({ event: 'upgraded', client: name, transport: transport.name });
        resolve(socket);
      });
    });
  });
}

// waitFor resolves once the client has received a chat message with text
// wanted.
function waitFor(socket, wanted) {
  return new Promise((resolve) => {
    const check = () => {
      if (socket.got.includes(wanted)) {
        socket.off('chat message', check);
        resolve();
      }
    };
    socket.on('chat message', check);
    check();
  });
}

// waitEvent resolves with the data of the first event called name, already
// logged or still to come, for which match returns true.
function waitEvent(socket, name, match = () => true) {
  return new Promise((resolve) => {
    const seen = socket.log.find((e) => e.name === name && match(e.data));
    if (seen) {
      resolve(seen.data);
      return;
    }
    const check = (data) => {
      if (match(data)) {
        socket.off(name, check);
        resolve(data);
      }
    };
    socket.on(name, check);
  });
}

// emitAck emits event with args and resolves with the server's
// acknowledgement, which it reports; no ack within ACK_TIMEOUT_MS fails.
function emitAck(socket, event, args) {
  return new Promise((resolve) => {
    const t = setTimeout(() => fail(`${socket.name}: no ack for ${event} ${JSON.stringify(args)} ` +
      `within ${ACK_TIMEOUT_MS} ms`), ACK_TIMEOUT_MS);
    socket.emit(event, ...args, (data) => {
      clearTimeout(t);
      out({ event: 'ack', client: socket.name, name: event, args, data });
      resolve(data);
    });
  });
}

// flushed resolves once the engine's write buffer is empty: over websocket
// the frames have been handed to the socket, over polling the POST that
// carried them has been answered by the server.
function flushed(socket) {
  const engine = socket.io.engine;
  return new Promise((resolve) => {
    if (engine.writeBuffer.length === 0 && engine.transport.writable) {
      resolve();
      return;
    }
    engine.once('drain', resolve);
  });
}

// close disconnects and resolves once the engine has closed.
function close(socket) {
  return new Promise((resolve) => {
    out({ event: 'transport', client: socket.name, transport: socket.io.engine.transport.name });
    socket.io.engine.once('close', () => resolve());
    socket.close();
  });
}

// all waits for every client in clients to get the chat message msg.
function all(clients, msg) {
  return Promise.all(clients.map((c) => waitFor(c, msg)));
}

async function presence(s) {
  const isik = `Işık ${s}`;
  const a = await open('A', isik);
  await waitEvent(a, 'welcome');
  const b = await open('B');
  const guestB = (await waitEvent(b, 'welcome')).nick;
  await waitEvent(a, 'user joined', (d) => d.nick === guestB);

  await emitAck(b, 'set nickname', [`ışık ${s}`]);
  const cagri = `Çağrı ${s}`;
  await emitAck(b, 'set nickname', [cagri]);
  await Promise.all([a, b].map((x) => waitEvent(x, 'nickname changed', (d) => d.to === cagri)));

  const c = await open('C', `IŞIK ${s}`);
  const guestC = (await waitEvent(c, 'welcome')).nick;
  await Promise.all([a, b].map((x) => waitEvent(x, 'user joined', (d) => d.nick === guestC)));

  const msg = `merhaba çğıİöşü ${s}`;
  a.emit('chat message', msg);
  await all([a, b, c], msg);

  await close(c);
  await Promise.all([a, b].map((x) => waitEvent(x, 'user left', (d) => d.nick === guestC)));
  await close(a);
  await waitEvent(b, 'user left', (d) => d.nick === isik);
  await close(b);
}

async function payloads(s, withPrivate) {
  const p = await open('P');
  const o = await open('O', `Gözcü ${s}`);
  await waitEvent(p, 'welcome');
  await waitEvent(o, 'welcome');
  const senders = [p];
  for (const args of [[{ nick: 'Ali' }], [42], [null], [['Ali']], []]) {
    await emitAck(p, 'set nickname', args);
  }
  if (withPrivate) {
    // Q has a rate limit of its own: the refusals above do not count here.
    const q = await open('Q');
    await waitEvent(q, 'welcome');
    senders.push(q);
    const gozcu = `Gözcü ${s}`;
    for (const args of [['Gözcü'], [{ text: 'merhaba' }], [{ to: 42, text: 'merhaba' }],
      [42], [null], [], [{ to: gozcu }], [{ to: gozcu, text: 7 }]]) {
      await emitAck(q, 'private message', args);
    }
    q.emit('typing', 'evet');
    await waitEvent(q, 'chat notice');
  }
  for (const x of senders) {
    const msg = `hâlâ buradayım ${x.name} ${s}`;
    x.emit('chat message', msg);
    await all([x, o], msg);
  }
  for (const x of [...senders, o]) await close(x);
}

async function privateScenario(s) {
  const [ali, ayse, can] = [`Ali ${s}`, `Ayşe ${s}`, `Can ${s}`];
  const a = await open('A', ali);
  await waitEvent(a, 'welcome');
  const b = await open('B', ayse);
  await waitEvent(b, 'welcome');
  await waitEvent(a, 'user joined', (d) => d.nick === ayse);
  const c = await open('C', can);
  await waitEvent(c, 'welcome');
  await Promise.all([a, b].map((x) => waitEvent(x, 'user joined', (d) => d.nick === can)));

  a.emit('typing', true);
  await Promise.all([b, c].map((x) => waitEvent(x, 'typing', (d) => d.nick === ali && d.typing === true)));
  a.emit('typing', false);
  await Promise.all([b, c].map((x) => waitEvent(x, 'typing', (d) => d.nick === ali && d.typing === false)));
  const typed = `yazdım ${s}`;
  a.emit('chat message', typed);
  await all([a, b, c], typed);

  const whisper = `aramızda kalsın ${s}`;
  await emitAck(a, 'private message', [{ to: ayse, text: whisper }]);
  await Promise.all([a, b].map((x) => waitEvent(x, 'private message', (d) => d.text === whisper)));
  const answer = `tamam ${s}`;
  await emitAck(b, 'private message', [{ to: ali.toLocaleUpperCase('tr'), text: answer }]);
  await Promise.all([a, b].map((x) => waitEvent(x, 'private message', (d) => d.text === answer)));
  await emitAck(a, 'private message', [{ to: `Yok ${s}`, text: 'kimse var mı' }]);
  await emitAck(a, 'private message', [{ to: ali, text: 'kendime' }]);

  const last = `herkese ${s}`;
  a.emit('chat message', last);
  await all([a, b, c], last);
  for (const x of [a, b, c]) await close(x);
}

// delivery speaks step 10's protocol: a message with a client offset and
// an acknowledgement, the same offset again (a retry), refusals, a plain
// string of the earlier steps, and a last message.
async function delivery(s) {
  const a = await open('A');
  const b = await open('B');
  await Promise.all([a, b].map((x) => waitEvent(x, 'welcome')));
  const first = `tam bir kez ${s}`;
  await emitAck(a, 'chat message', [first, `ilk-${s}`]);
  await all([a, b], first);
  await emitAck(a, 'chat message', [first, `ilk-${s}`]);
  await emitAck(a, 'chat message', ['  ', `bos-${s}`]);
  await emitAck(a, 'chat message', [42, `sayi-${s}`]);
  await emitAck(a, 'chat message', [`uzun kimlik ${s}`, 'x'.repeat(65)]);
  const legacy = `eski usul ${s}`;
  a.emit('chat message', legacy);
  await all([a, b], legacy);
  const last = `son ${s}`;
  await emitAck(a, 'chat message', [last, `son-${s}`]);
  await all([a, b], last);
  for (const x of [a, b]) await close(x);
}

async function main() {
  if (scenario === 'connect') {
    const clients = await Promise.all([open('A'), open('B')]);
    for (const c of clients) await close(c);
  } else if (scenario === 'emit') {
    const a = await open('A');
    a.emit('chat message', text);
    await flushed(a);
    out({ event: 'sent', client: 'A', text });
    await close(a);
  } else if (scenario === 'broadcast') {
    const [a, b] = await Promise.all([open('A'), open('B')]);
    const marker = `${text} (son)`;
    a.emit('chat message', text);
    a.emit('chat message', marker);
    await flushed(a);
    out({ event: 'sent', client: 'A', text });
    await Promise.all([waitFor(a, marker), waitFor(b, marker)]);
    await close(a);
    await close(b);
  } else if (scenario === 'churn') {
    const count = Number(text || 40);
    for (let i = 1; i <= count; i++) {
      const a = await open('A');
      const msg = `churn ${i}/${count}`;
      a.emit('chat message', msg);
      await waitFor(a, msg);
      await close(a);
    }
  } else if (scenario === 'presence') {
    await presence(text);
  } else if (scenario === 'payloads') {
    await payloads(text, flags.includes('private'));
  } else if (scenario === 'private') {
    await privateScenario(text);
  } else if (scenario === 'delivery') {
    await delivery(text);
  } else {
    fail(`unknown scenario ${scenario}`);
  }
  clearTimeout(timer);
  out({ event: 'done' });
  // Node exits once the close packets are out. A polling client may still
  // hold a long-poll request open; do not wait long for its answer.
  setTimeout(() => process.exit(0), 3000).unref();
}

main().catch((err) => fail(String(err && err.stack ? err.stack : err)));
