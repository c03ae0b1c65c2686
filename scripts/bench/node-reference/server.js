// Reference server for the benchmark: the Node.js Socket.IO "chat" tutorial
// (https://socket.io/get-started/chat), on socket.io 2.5.x, which speaks the
// same protocol (Engine.IO 3) as go-socket.io v1.7.0. Every "chat message"
// is broadcast to everyone with io.emit, as in the tutorial.
//
// Run from the repository root after `npm ci`:
//   PORT=3000 node scripts/bench/node-reference/server.js
// It listens on 127.0.0.1 only (HOST overrides) and logs the same ready
// line as the Go steps.
'use strict';

const http = require('http');
const path = require('path');

const pkg = require(path.join(__dirname, '..', '..', '..', 'node_modules', 'socket.io', 'package.json'));
if (!pkg.version.startsWith('2.')) {
  console.error(`socket.io ${pkg.version} is installed; the reference needs 2.x (run npm ci at the repository root)`);
  process.exit(1);
}
const socketio = require('socket.io');

const port = Number(process.env.PORT || 3000);
const host = process.env.HOST || '127.0.0.1';

const server = http.createServer((req, res) => {
  res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
  res.end('node reference chat (socket.io ' + pkg.version + ')\n');
});
const io = socketio(server);

io.on('connection', (socket) => {
  socket.on('chat message', (msg) => {
    io.emit('chat message', msg);
  });
});

// PORT=0 picks a free port; the ready line tells which.
server.listen(port, host, () => {
  console.log(`sunucu dinliyor: http://localhost:${server.address().port} (node socket.io ${pkg.version})`);
});

function shutdown() {
  io.close();
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
