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
const app = express();
const orders = express.Router();
orders.get('/:id', async function getOrder(req, res) {
  const order = await load(Number(req.params.id));
  const total = order.items.reduce((a, b) => a + b, 0);
  res.json({ ...order, total, tax: tax(total) });
});
app.use('/orders', orders);
const server = app.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ port: server.address().port })));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
module.exports = server; // bench/node/express_driver.cjs drives it in-process
