// The few Node globals the fixture uses (no @types/node), and JSX as strings.
declare const process: { stdout: { write(s: string): boolean } };
declare function setTimeout(f: (v?: unknown) => void, ms: number): unknown;
declare namespace JSX {
  type Element = string;
  interface IntrinsicElements {
    [tag: string]: object;
  }
}
