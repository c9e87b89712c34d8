'use strict';
// The Express app of bench/sensor_node.sh: a parameterised route doing a little work over an
// await, as a service's endpoint would.
const express = require('express');

function price(id) {
  return id * 3 + 1;
}
function tax(total) {
  return Math.round(total * 0.2);
}
async function load(id) {
  await null;
  return { id, items: [1, 2, 3].map((k) => price(id + k)) };
}
// HUD_BENCH_PAGE=N: each answer also carries a page of N records (made once, as the rows a
// database driver would return), serialized by res.json: an endpoint whose CPU goes mostly to
// work outside the app's own functions. Default 0: the near-empty endpoint above.
const page = [];
for (let i = 0; i < (Number(process.env.HUD_BENCH_PAGE) || 0); i++)
  page.push({ id: i, sku: `SKU-${100000 + i}`, name: `Catalogue item ${i}`, price: i * 1.25, tags: ['new', 'sale'], stock: i % 7 });
const app = express();
const orders = express.Router();
orders.get('/:id', async function getOrder(req, res) {
  const order = await load(Number(req.params.id));
  const total = order.items.reduce((a, b) => a + b, 0);
  res.json(page.length ? { ...order, total, tax: tax(total), page } : { ...order, total, tax: tax(total) });
});
app.use('/orders', orders);
const server = app.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ port: server.address().port })));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
module.exports = server; // bench/node/express_driver.cjs drives it in-process
