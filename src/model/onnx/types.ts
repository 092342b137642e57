/** A tensor dimension: a fixed size or a symbolic name such as "batch". */
export type Dim = number | string;

export type ElemType = "float32" | "float16" | "int64" | "bool";

export type Attribute =
  | { kind: "int"; value: number }
  | { kind: "ints"; value: readonly number[] }
  | { kind: "float"; value: number };

export type Attributes = Readonly<Record<string, Attribute>>;

export const int = (value: number): Attribute => ({ kind: "int", value });
export const ints = (value: readonly number[]): Attribute => ({ kind: "ints", value });
export const float = (value: number): Attribute => ({ kind: "float", value });
