// Errors thrown from compiled TypeScript at several depths and forms; each case returns
// error.stack (stack.mjs compares them with and without the sensor).
abstract class Base {
  abstract go(): never;
  run(): never {
    return this.go();
  }
}

class Thrower extends Base {
  go(): never {
    throw new Error('method');
  }
}

function depth(n: number): number {
  if (n === 0) throw new Error('bottom');
  return depth(n - 1) + 1;
}

const arrow = (o: { missing?: { prop: number } }): number => o.missing!.prop;

async function deferred(): Promise<never> {
  await null;
  throw new Error('async');
}

function* gen(): Generator<number> {
  yield 1;
  throw new Error('generator');
}

export async function collect(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const cases: Record<string, () => unknown> = {
    method: () => new Thrower().run(),
    depth: () => depth(3),
    arrow: () => arrow({}),
    gen: () => [...gen()],
  };
  for (const [k, f] of Object.entries(cases)) {
    try {
      f();
    } catch (e) {
      out[k] = String((e as Error).stack);
    }
  }
  out.async = await deferred().catch((e: Error) => String(e.stack));
  return out;
}
