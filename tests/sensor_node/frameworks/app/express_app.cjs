'use strict';
// Express 4: a router mounted at /orders, routes on the app, an error middleware.
const express = require('express');
const w = require('./work.cjs');

const app = express();
const orders = express.Router();
orders.get('/:id', async function orderHandler(req, res) {
  res.json(await w.getOrder(Number(req.params.id)));
});
app.use('/orders', orders);
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
app.get('/missing/:id', function missingHandler(req, res, next) {
  next(new w.NotFound(req.params.id));
});
app.use(function errorHandler(err, req, res, next) {
  res.status(err.status || 500).json({ error: err.constructor.name });
});
const server = app.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ port: server.address().port })));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
