// Shapes: classes, abstract classes, accessors, class fields, overloads, decorators, enums,
// namespaces, generators, async generators, async arrows, a default export.
function logged(target: any, key: string, desc: PropertyDescriptor): PropertyDescriptor {
  const orig = desc.value;
  desc.value = function (this: unknown, ...args: unknown[]) {
    return orig.apply(this, args);
  };
  return desc;
}

export abstract class Shape {
  constructor(public readonly name: string) {}
  abstract area(): number;
  describe(): string {
    return `${this.name}:${this.area()}`;
  }
}

export class Circle extends Shape {
  private scale = (k: number) => k * 2;
  static count = 0;
  constructor(private r: number) {
    super('circle');
    Circle.count++;
  }
  get radius(): number {
    return this.r;
  }
  set radius(v: number) {
    this.r = v;
  }
  @logged
  area(): number {
    return Math.round(Math.PI * this.r * this.r);
  }
  public async grow(by: number): Promise<number> {
    await Promise.resolve();
    this.r = this.scale(by);
    return this.r;
  }
}

export function pick(x: string): string;
export function pick(x: number): number;
export function pick(x: string | number): string | number {
  return x;
}

export enum Color {
  Red,
  Green = 'green'.length,
}

export namespace Geo {
  export function dist(a: number, b: number): number {
    return Math.abs(a - b);
  }
  export const half = (v: number): number => v / 2;
}

export function* count(n: number): Generator<number> {
  for (let i = 0; i < n; i++) yield i;
}

export async function* ticks(n: number): AsyncGenerator<number> {
  for (let i = 0; i < n; i++) {
    await null;
    yield i;
  }
}

export const fail = async (msg: string): Promise<never> => {
  throw new Error(msg);
};

export default function main(): number {
  return pick(3) + new Circle(1).area();
}
