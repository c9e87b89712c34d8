'use strict';
// An Express app without an error handler (argv[2]: the package, express or express5): an error
// thrown by the last layer that matches reaches the router's final callback, where Express's
// finalhandler answers 500, and where the sensor sees the request's exception.
process.env.NODE_ENV = 'test'; // finalhandler then leaves stderr alone
const express = require(process.argv[2] || 'express');

const app = express();
app.get('/fail', function failHandler() {
  throw new TypeError('final');
});
const server = app.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ port: server.address().port })));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
