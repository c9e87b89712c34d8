'use strict';
// bench/sensor_node_inproc.sh: the Express app (express_app.cjs in the working directory) served
// without sockets: each request an http.IncomingMessage and http.ServerResponse over a stream
// that drops what is written, handed to the app's handle(), 10 in flight. No kernel and no
// HTTP parser in between: what a request costs in JavaScript alone. Installed under
// node_modules so that the sensor leaves it uninstrumented. Each line on stdin: prints the
// requests served so far. With HUD_BENCH_REQUESTS=N it exits once N requests were served
// (bench/sensor_node_instr.mjs runs it to two counts under callgrind).
const http = require('node:http');
const path = require('node:path');
const readline = require('node:readline');
const { Duplex } = require('node:stream');

const express = require(path.join(process.cwd(), 'node_modules', 'express'));
// The app without a listening socket: its listen() returns a server that is never started.
const listen = express.application.listen;
let app = null;
express.application.listen = function () {
  app = this;
  return new http.Server();
};
require(path.join(process.cwd(), 'express_app.cjs'));
express.application.listen = listen;

class Sink extends Duplex {
  _read() {}
  _write(chunk, enc, cb) {
    cb();
  }
  _writev(chunks, cb) {
    cb();
  }
}

let served = 0;
const stopAt = Number(process.env.HUD_BENCH_REQUESTS) || -1;
let id = 0;
function request(socket) {
  const req = new http.IncomingMessage(socket);
  req.method = 'GET';
  req.url = `/orders/${id++ % 1000}`;
  req.headers = { host: '127.0.0.1' };
  req.httpVersionMajor = 1;
  req.httpVersionMinor = 1;
  req.httpVersion = '1.1';
  req.complete = true;
  req.push(null);
  const res = new http.ServerResponse(req);
  res.shouldKeepAlive = true;
  res.assignSocket(socket);
  res.on('finish', () => {
    res.detachSocket(socket);
    process.nextTick(() => res.emit('close')); // as Node's server does after 'finish' (resOnFinish)
    if (res.statusCode !== 200) {
      console.error(`status ${res.statusCode}`);
      process.exit(1);
    }
    served++;
    if (served === stopAt) process.exit(0);
    setImmediate(request, socket); // a turn of the event loop between requests, as a server has
  });
  app.handle(req, res);
}
for (let k = 0; k < 10; k++) request(new Sink());

readline.createInterface({ input: process.stdin })
  .on('line', () => process.stdout.write(`${served}\n`))
  .on('close', () => process.exit(0));
