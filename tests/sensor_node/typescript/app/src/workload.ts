// Ground truth: every function below is called a known number of times (expected.json, by
// qualname; the test keys them by hud-index's function_id of this file).
import main, { Circle, Color, Geo, Shape, count, fail, pick, ticks } from './shapes.js';
import { Label, Panel } from './widget.js';

type Op = (a: number, b: number) => number;

export class Counter<T> {
  #seen = new Set<T>();
  total = 0;
  add(item: T): this {
    this.#seen.add(item);
    this.total += 1;
    return this;
  }
  get size(): number {
    return this.#seen.size;
  }
  static of<U>(...items: U[]): Counter<U> {
    const c = new Counter<U>();
    items.forEach((i) => c.add(i));
    return c;
  }
}

function apply(op: Op, a: number, b: number): number {
  return op(a, b);
}

const add: Op = (a, b) => a + b;

function makeAdder(n: number) {
  return function adder(x: number): number {
    return x + n;
  };
}

function risky(n: number): number {
  if (n % 2) throw new RangeError(`odd ${n}`);
  return n;
}

async function later(v: number): Promise<number> {
  await new Promise((r) => setTimeout(r, 1));
  return v * 2;
}

async function rejectsLater(): Promise<void> {
  await later(1);
  throw new TypeError('after await');
}

namespace Inner {
  export class Box {
    constructor(public v: number) {}
    open = (): number => this.v;
  }
}

export default async function run(): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  const c = Counter.of('a', 'b', 'a');
  out.counter = [c.total, c.size];
  out.sum = apply(add, 2, 3) + apply((a, b) => a * b, 2, 3);
  const add5 = makeAdder(5);
  out.adders = [add5(1), add5(2), add5(3)];
  let caught = 0;
  for (let i = 0; i < 4; i++) {
    try {
      risky(i);
    } catch {
      caught++;
    }
  }
  out.caught = caught;
  out.later = await Promise.all([later(1), later(2)]);
  out.rejected = await rejectsLater().catch((e: Error) => e.message);
  const circle = new Circle(2);
  circle.radius = 3;
  out.circle = [circle.radius, circle.area(), circle.describe(), await circle.grow(4), Circle.count];
  out.shape = circle instanceof Shape;
  out.pick = [pick('x'), pick(7)];
  out.enum = [Color.Red, Color.Green, Color[0]];
  out.geo = [Geo.dist(1, 4), Geo.half(8)];
  out.count = [...count(3)];
  const ticked: number[] = [];
  for await (const t of ticks(2)) ticked.push(t);
  out.ticks = ticked;
  out.fail = await fail('boom').catch((e: Error) => e.message);
  out.main = main();
  out.box = new Inner.Box(9).open();
  out.jsx = [Label({ text: 'hi' }), Panel({ items: ['a', 'b'] })];
  return out;
}
