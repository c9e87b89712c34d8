'use strict';
// bench/sensor_node_express.sh: the Express app (express_app.cjs) and a keep-alive client in one
// process. Installed under node_modules so that the sensor leaves it uninstrumented: only the
// app's code is. Each line on stdin is a request count: that many requests (10 in flight), then
// "done" on stdout. The caller counts the instructions in between (callgrind_control).
const http = require('node:http');
const path = require('node:path');
const readline = require('node:readline');

const server = require(path.join(process.cwd(), 'express_app.cjs'));
const agent = new http.Agent({ keepAlive: true, maxSockets: 10 });
let port = 0;
let next = 1;

function one(cb) {
  const id = next++ % 1000;
  http.get({ host: '127.0.0.1', port, path: `/orders/${id}`, agent }, (res) => {
    res.resume();
    res.on('end', () => (res.statusCode === 200 ? cb() : cb(new Error(`status ${res.statusCode}`))));
  }).on('error', cb);
}

function run(n, done) {
  let sent = 0, ended = 0, failed = null;
  const go = () => {
    if (sent >= n) return;
    sent++;
    one((err) => {
      failed = failed || err;
      if (++ended === n) done(failed);
      else go();
    });
  };
  for (let k = 0; k < Math.min(10, n); k++) go();
}

server.on('listening', () => {
  port = server.address().port;
  const rl = readline.createInterface({ input: process.stdin });
  rl.on('line', (line) => {
    run(Number(line) || 1, (err) => {
      if (err) {
        console.error(err.message);
        process.exit(1);
      }
      process.stdout.write('done\n');
    });
  });
  rl.on('close', () => process.exit(0));
});
