#!/usr/bin/env node
// Interop driver: talks to a running step with the official socket.io-client
// (the version pinned in package.json) and prints one JSON object per line
// describing what happened, for interop_test.go to check.
//
//   node scripts/interop/driver.js URL MODE SCENARIO [TEXT]
//
// MODE is how the client picks its transport:
//   default    polling first, then the upgrade to websocket (the client's default)
//   websocket  transports: ['websocket']
//   polling    transports: ['polling']
//
// SCENARIO:
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
// Output lines (all carry "client" where it applies):
//   {"event":"connected","client":"A","transport":"polling"}
//   {"event":"upgraded","client":"A","transport":"websocket"}
//   {"event":"transport","client":"A","transport":"websocket"}   (final)
//   {"event":"sent","client":"A","text":"..."}                   (flushed)
//   {"event":"received","client":"B","text":"..."}
//   {"event":"disconnected","client":"A","reason":"io client disconnect"}
//   {"event":"error","message":"..."}                            (then exit 1)
//   {"event":"done"}                                             (then exit 0)
'use strict';

const io = require('socket.io-client');

const TIMEOUT_MS = Number(process.env.DRIVER_TIMEOUT_MS || 15000);
const MODES = {
  default: undefined,
  websocket: ['websocket'],
  polling: ['polling'],
};

function out(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

function fail(message) {
  out({ event: 'error', message });
  process.exit(1);
}

const [url, mode, scenario, text] = process.argv.slice(2);
if (!url || !(mode in MODES) || !scenario) {
  process.stderr.write('usage: driver.js URL default|websocket|polling connect|emit|broadcast|churn [TEXT]\n');
  process.exit(2);
}
if ((scenario === 'emit' || scenario === 'broadcast') && !text) {
  fail(`scenario ${scenario} needs TEXT`);
}

const timer = setTimeout(() => fail(`timeout after ${TIMEOUT_MS} ms`), TIMEOUT_MS);

// open connects one client and resolves once it is connected and, in the
// default mode, once the engine has upgraded to websocket.
function open(name) {
  const opts = {
    forceNew: true, // one engine connection per client, never shared
    reconnection: false, // a failure must show, not be retried away
  };
  if (MODES[mode]) opts.transports = MODES[mode];
  const socket = io(url, opts);
  socket.name = name;
  socket.got = [];
  socket.on('chat message', (msg) => {
    socket.got.push(msg);
    out({ event: 'received', client: name, text: msg });
  });
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

// waitFor resolves once the client has received text.
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
