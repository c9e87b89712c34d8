'use strict';
// Code both the main thread and the workers run.
function price(id) {
  return id * 3;
}

class Cart {
  constructor() {
    this.items = [];
  }
  add(id) {
    this.items.push(price(id));
    return this;
  }
  get total() {
    return this.items.reduce((a, b) => a + b, 0);
  }
}

function* ids(n) {
  for (let i = 1; i <= n; i++) yield i;
}

async function later(x) {
  await new Promise((r) => setTimeout(r, 1));
  return x + 1;
}

class Refused extends Error {}
function refuse(why) {
  throw new Refused(why);
}

module.exports = { price, Cart, ids, later, refuse, Refused };
