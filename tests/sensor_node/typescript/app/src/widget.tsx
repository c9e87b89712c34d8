// A .tsx module: JSX compiled to calls of the factory below.
export const React = {
  createElement(tag: string | Function, props: object | null, ...children: unknown[]): string {
    const inner = children.map((c) => String(c)).join('');
    return typeof tag === 'function' ? tag({ ...props, children: inner }) : `<${tag}>${inner}</${tag}>`;
  },
};

interface LabelProps {
  text: string;
  children?: string;
}

export function Label({ text }: LabelProps): string {
  return <b>{text}</b>;
}

export const Panel = <T extends string>(props: { items: T[] }): string => (
  <div>{props.items.map((i) => <Label text={i} />)}</div>
);
