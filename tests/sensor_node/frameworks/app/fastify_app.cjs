'use strict';
// Fastify 4 (or the package argv[2]: Fastify 5): routes with parameters, an async handler that throws, a plugin with a prefix.
const fastify = require(process.argv[2] || 'fastify')();
const w = require('./work.cjs');

async function orderHandler(req) {
  return w.getOrder(Number(req.params.id));
}
// A route's preHandler hook at a module's top level: it runs after the body was read.
function checkOrder(req, reply, done) {
  w.audit(req.body.n);
  done();
}
async function createHandler(req, reply) {
  reply.code(201);
  return w.createOrder(req.body);
}
fastify.register(
  async function ordersPlugin(app) {
    app.get('/:id', orderHandler);
    app.post('/', { preHandler: checkOrder }, createHandler);
  },
  { prefix: '/orders' },
);
fastify.get('/users/:id', async function userHandler(req) {
  return w.getUser(Number(req.params.id));
});
fastify.get('/config', function configHandler(req, reply) {
  w.readConfig((err, c) => reply.send(err || c));
});
fastify.get('/health', async function healthHandler() {
  return w.status();
});
fastify.get('/boom', async function boomHandler() {
  w.explode();
});
fastify.get('/missing/:id', async function missingHandler(req) {
  throw new w.NotFound(req.params.id);
});
fastify.listen({ port: 0, host: '127.0.0.1' }).then(() => console.log(JSON.stringify({ port: fastify.server.address().port })));
process.on('SIGTERM', () => fastify.close().then(() => process.exit(0)));
