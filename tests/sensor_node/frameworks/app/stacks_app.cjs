'use strict';
// error.stack from a handler under several layers of a framework (argv[2]: express, express5,
// fastify, fastify5, koa, koa3) at Error.stackTraceLimit argv[3] (default 10, Node's own):
// printed as JSON, it must be the same with and without the sensor, whose wrappers of the
// framework's calls into the application stand on the stack and are left out of error.stack.
const http = require('node:http');
const pkg = process.argv[2];
if (process.argv[3]) Error.stackTraceLimit = Number(process.argv[3]);
const fw = pkg.replace(/\d+$/, '');

function trace() {
  return new Error('here').stack;
}

async function serve() {
  if (fw === 'express') {
    const express = require(pkg);
    const app = express();
    for (let i = 0; i < 4; i++) app.use(function pass(req, res, next) { next() });
    const r = express.Router();
    r.use(function inner(req, res, next) { next() });
    r.get('/t', function handler(req, res) { res.end(trace()) });
    app.use('/x', r);
    return http.createServer(app);
  }
  if (fw === 'koa') {
    const Koa = require(pkg);
    const app = new Koa();
    for (let i = 0; i < 4; i++) app.use(function pass(ctx, next) { return next() });
    app.use(function handler(ctx) { ctx.body = trace() });
    return http.createServer(app.callback());
  }
  const app = require(pkg)();
  app.addHook('onRequest', function early(req, reply, done) { done() });
  app.addHook('preHandler', function before(req, reply, done) { done() });
  app.get('/x/t', function handler(req, reply) { reply.send(trace()) });
  await app.ready();
  return app.server;
}

serve().then((server) => {
  server.listen(0, '127.0.0.1', () => {
    http.get(`http://127.0.0.1:${server.address().port}/x/t`, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => {
        process.stdout.write(JSON.stringify({ stack: body }) + '\n');
        server.close();
      });
    });
  });
});
