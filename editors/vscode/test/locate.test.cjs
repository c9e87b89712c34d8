const test = require("node:test");
const assert = require("node:assert/strict");
const L = require("../out/lib/locate.js");

test("path maps: longest prefix first, the module path last", () => {
  assert.deepEqual(L.mapModulePath("shop/cart.py", { "shop/": "src/shop/", "": "app/" }), ["src/shop/cart.py", "app/shop/cart.py", "shop/cart.py"]);
  assert.deepEqual(L.mapModulePath("billing/tax.py", { "shop/": "src/shop/" }), ["billing/tax.py"]);
  assert.deepEqual(L.mapModulePath(null, { "": "app/" }), []); // never declared: nothing to map
  assert.deepEqual(L.mapModulePath("", { "": "app/" }), []);
});

test("definition lines for Python and JavaScript", () => {
  const py = "import x\n\nclass Cart:\n    async def add(self):\n        pass\ndef checkout(cart):\n    def inner():\n        return 1\n";
  assert.equal(L.findDefinitionLine(py, "checkout"), 5);
  assert.equal(L.findDefinitionLine(py, "Cart.add"), 3);
  assert.equal(L.findDefinitionLine(py, "Cart"), 2);
  assert.equal(L.findDefinitionLine(py, "checkout.<locals>.inner"), 6);
  assert.equal(L.findDefinitionLine("export async function load(a) {}\n", "load"), 0);
  assert.equal(L.findDefinitionLine(py, "missing"), -1);
  assert.equal(L.findDefinitionLine(py, "a.b(c"), -1);
});
