// Koa 2 with @koa/router 12 (or the packages argv[2] and argv[3]: Koa 3, @koa/router 15), as an
// ES module (Koa's own ES entry point): a router with a prefix, behind a middleware package
// that waits for a timer first (hud-test-delay, written by the test).
import delay from 'hud-test-delay';
import w from './work.cjs';

const { default: Koa } = await import(process.argv[2] || 'koa');
const { default: Router } = await import(process.argv[3] || '@koa/router');

const app = new Koa();
app.silent = true;
app.use(delay);
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
