import { BYTE_VALUES } from "./byte-count-ops.js";
import type { GraphBuilder } from "./graph-builder.js";
import { previousTokens } from "./shift-ops.js";
import { int, ints } from "./types.js";

export const PUNCTUATION = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";

const isSpace = (b: number) => b === 32 || (b >= 9 && b <= 13);
const isUpper = (b: number) => b >= 65 && b <= 90;
const isDigit = (b: number) => b >= 48 && b <= 57;

/**
 * Byte classes, in row order: any byte, non-space, whitespace, newline, capital, lowercase,
 * digit, UTF-8 lead byte of 2, lead byte of 3 or 4, then each ASCII punctuation mark.
 */
const CLASS_TESTS: readonly ((b: number) => boolean)[] = [
  () => true,
  (b) => !isSpace(b),
  isSpace,
  (b) => b === 0x0a,
  isUpper,
  (b) => b >= 97 && b <= 122,
  isDigit,
  (b) => b >= 0xc0 && b < 0xe0,
  (b) => b >= 0xe0,
  ...Array.from(PUNCTUATION, (mark) => (b: number) => b === mark.charCodeAt(0)),
];
const CLASSES = CLASS_TESTS.length;
const NON_SPACE = 1;
const CAPITAL = 4;
const DIGIT = 6;

/**
 * Gates on the byte before: always, at a line start, after a space, after a non-digit, after a
 * capital. A special token before (the segment start, padding) is a break: a line start, a
 * space, a non-digit.
 */
const GATE_TESTS: readonly ((previous: number | null) => boolean)[] = [
  () => true,
  (p) => p === null || p === 0x0a,
  (p) => p === null || isSpace(p),
  (p) => p === null || !isDigit(p),
  (p) => p !== null && isUpper(p),
];

/** (gate, class) pairs counted, in row order. */
const COUNTED: readonly (readonly [number, number])[] = [
  ...Array.from({ length: CLASSES }, (_, c) => [0, c] as const),
  ...Array.from({ length: CLASSES }, (_, c) => [1, c] as const),
  [2, NON_SPACE],
  [3, DIGIT],
  [4, CAPITAL],
];

/** Rows the surface view adds to Φ. */
export const SURFACE_ROWS = COUNTED.length;

function table(vocabSize: number, tests: readonly ((b: number) => boolean)[]): Float32Array {
  const out = new Float32Array(vocabSize * tests.length);
  for (let b = 0; b < BYTE_VALUES; b++) {
    tests.forEach((test, c) => {
      if (test(b)) out[b * tests.length + c] = 1;
    });
  }
  return out;
}

function gateTable(vocabSize: number): Float32Array {
  const out = new Float32Array(vocabSize * GATE_TESTS.length);
  for (let id = 0; id < vocabSize; id++) {
    const previous = id < BYTE_VALUES ? id : null;
    GATE_TESTS.forEach((test, g) => {
      if (test(previous)) out[id * GATE_TESTS.length + g] = 1;
    });
  }
  return out;
}

/**
 * The surface view in plain code: the reference the graph is tested against, and what
 * experiments compute without running the backbone. log1p of each count, in row order.
 */
export function surfaceCounts(text: string): Float64Array {
  const counts = new Float64Array(SURFACE_ROWS);
  let previous: number | null = null;
  for (const b of Buffer.from(text, "utf8")) {
    COUNTED.forEach(([gate, cls], row) => {
      if (GATE_TESTS[gate]!(previous) && CLASS_TESTS[cls]!(b)) counts[row]! += 1;
    });
    previous = b;
  }
  return counts.map(Math.log1p);
}

/**
 * Surface statistics of each view as [batch, SURFACE_ROWS, m] under view weights [batch, seq, m]:
 * log(1 + count) of each byte class, of each class at a line start, of word starts, digit runs
 * and capital pairs. Counts of (gate on the previous token) × (class of this token) come from one
 * MatMul; special tokens (ids ≥ 256) belong to no class.
 */
export function surfaceStatistics(
  g: GraphBuilder,
  inputIds: string,
  viewWeights: string,
  vocabSize: number,
): string {
  const classes = g.op(
    "Gather",
    [g.floatInit("surface_classes", table(vocabSize, CLASS_TESTS), [vocabSize, CLASSES]), inputIds],
    { axis: int(0) },
  );
  // The first position's previous token is a special one (a break).
  const previous = previousTokens(g, inputIds, BYTE_VALUES);
  const gates = g.op(
    "Gather",
    [g.floatInit("surface_gates", gateTable(vocabSize), [vocabSize, GATE_TESTS.length]), previous],
    { axis: int(0) },
  );
  const products = g.op("Mul", [
    g.op("Unsqueeze", [gates, g.int64Init("axes", [3])]),
    g.op("Unsqueeze", [classes, g.int64Init("axes", [2])]),
  ]);
  const flat = g.op("Reshape", [products, g.int64Init("shape", [0, 0, -1])]);
  const counts = g.op("MatMul", [
    g.op("Transpose", [flat], { perm: ints([0, 2, 1]) }),
    viewWeights,
  ]);
  const picked = g.op(
    "Gather",
    [
      counts,
      g.int64Init(
        "surface_rows",
        COUNTED.map(([gate, cls]) => gate * CLASSES + cls),
      ),
    ],
    { axis: int(1) },
  );
  return g.op("Log", [g.op("Add", [picked, g.floatScalar(1)])]);
}
