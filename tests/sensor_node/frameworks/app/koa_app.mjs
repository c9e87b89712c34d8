// Koa 2 with @koa/router, as an ES module (Koa's own ES entry point): a router with a prefix.
import Koa from 'koa';
import Router from '@koa/router';
import w from './work.cjs';

const app = new Koa();
app.silent = true;
const orders = new Router({ prefix: '/orders' });
orders.get('/:id', async function orderHandler(ctx) {
  ctx.body = await w.getOrder(Number(ctx.params.id));
});
// The body read from the request stream (Koa has no parser of its own).
orders.post('/', async function createHandler(ctx) {
  let text = '';
  for await (const chunk of ctx.req) text += chunk;
  ctx.status = 201;
  ctx.body = await w.createOrder(JSON.parse(text));
});
const router = new Router();
router.get('/users/:id', async function userHandler(ctx) {
  ctx.body = await w.getUser(Number(ctx.params.id));
});
router.get('/config', function configHandler(ctx) {
  return new Promise((resolve, reject) =>
    w.readConfig((err, c) => (err ? reject(err) : resolve((ctx.body = c)))));
});
router.get('/health', function healthHandler(ctx) {
  ctx.body = w.status();
});
router.get('/boom', function boomHandler() {
  w.explode();
});
router.get('/missing/:id', function missingHandler(ctx) {
  throw new w.NotFound(ctx.params.id);
});
app.use(orders.routes()).use(router.routes());
const server = app.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ port: server.address().port })));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
