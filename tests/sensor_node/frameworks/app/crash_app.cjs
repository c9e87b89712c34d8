'use strict';
// An Express app that a request brings down: GET /reject starts a rejection nobody handles
// (Node's default: the process ends), GET /throw a timer callback that throws.
const express = require('express');
const w = require('./work.cjs');

const app = express();
app.get('/reject', function rejectHandler() {
  w.notify(1);
});
app.get('/throw', function throwHandler() {
  setTimeout(function tick() {
    w.explode();
  }, 1);
});
const server = app.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ port: server.address().port })));
