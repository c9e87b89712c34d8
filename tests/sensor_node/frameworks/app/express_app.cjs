'use strict';
// Express 4 (or the package argv[2]: Express 5): a router mounted at /orders, routes on the app,
// an error middleware, an unhandled rejection.
const express = require(process.argv[2] || 'express');
const { setTimeout: sleep } = require('node:timers/promises');
const w = require('./work.cjs');

const app = express();
// A body read by the application's own middleware: its stream events run outside the
// request's async context, and the route is dispatched from there.
app.use(function readBody(req, res, next) {
  if (req.method !== 'PUT') return next();
  let text = '';
  req.on('data', function onData(c) {
    text += c;
  });
  req.on('end', function onEnd() {
    req.body = JSON.parse(text);
    next();
  });
});
app.put('/notes/:id', function noteHandler(req, res, next) {
  w.readConfig((err, c) => (err ? next(err) : res.json({ ...c, ...req.body })));
});
const orders = express.Router();
orders.get('/:id', async function orderHandler(req, res) {
  res.json(await w.getOrder(Number(req.params.id)));
});
orders.post('/', express.json(), async function createHandler(req, res) {
  res.status(201).json(await w.createOrder(req.body));
});
app.use('/orders', orders);
// A router given to another router in an array (mounted at '/').
const admin = express.Router();
admin.get('/stats', function statsHandler(req, res) {
  res.json({ status: w.status() });
});
const api = express.Router();
api.use([admin]);
app.use(api);
// One route object under two mount paths, with two methods: a flow per (method, path).
const shared = express.Router();
shared.route('/item').get(async function itemGet(req, res) {
  const ticks = await w.itemTicks(5000);
  res.json({ ok: true, sum: w.itemSum(3000), ticks });
}).delete(function itemDelete(req, res) {
  res.json({ ok: true });
});
app.use('/a', shared);
app.use('/b', shared);
app.get('/users/:id', async function userHandler(req, res) {
  res.json(await w.getUser(Number(req.params.id)));
});
app.get('/config', function configHandler(req, res, next) {
  w.readConfig((err, c) => (err ? next(err) : res.json(c)));
});
app.get('/health', function healthHandler(req, res) {
  res.send(w.status());
});
app.get('/boom', function boomHandler() {
  w.explode();
});
// Starts a rejection nobody waits for, answers after it was reported (the application's own
// listener keeps the process alive).
app.get('/later/:id', async function laterHandler(req, res) {
  w.notify(Number(req.params.id));
  await sleep(30);
  res.json({ ok: true });
});
// Three rejections in one turn of the event loop, none handled.
app.get('/fanout', async function fanoutHandler(req, res) {
  [1, 2, 3].forEach((n) => w.report(n));
  await sleep(20);
  res.json({ ok: true });
});
process.on('unhandledRejection', function onUnhandled(err) {
  if (!(err instanceof w.Lost)) throw err;
});
app.get('/missing/:id', function missingHandler(req, res, next) {
  next(new w.NotFound(req.params.id));
});
app.use(function errorHandler(err, req, res, next) {
  res.status(err.status || 500).json({ error: err.constructor.name });
});
// inside: Express's layer carries the sensor's statements (tests/sensor_node/frameworks.mjs).
const layer = Object.values(require.cache).find((m) => /[\\/](lib[\\/]router|router[\\/]lib)[\\/]layer\.js$/.test(m.id));
// V8's own text: another context's toString (the sensor's gives the source's text, `plainText`).
const v8Text = require('node:vm').runInNewContext('Function.prototype.toString');
const handle = layer && (layer.exports.prototype.handle_request || layer.exports.prototype.handleRequest);
const inside = !!layer && /__hud\.fw/.test(v8Text.call(handle));
// toString() gives Express's own text (with our statements in it or around it in a wrapper).
const plainText = !layer || (require('node:fs').readFileSync(layer.id, 'utf8').includes(String(handle)) && handle.length === 3);
const server = app.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ port: server.address().port, inside, plainText })));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
// In a worker (in_worker.cjs), which SIGTERM does not reach: the main thread's 'stop'. Closing the
// server first lets the last responses end ('close', where their requests are recorded).
require('node:worker_threads').parentPort?.once('message', (m) => {
  if (m === 'stop') server.close(() => process.exit(0));
});
