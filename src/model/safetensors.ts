/** F16 and BF16 are held as their raw 16-bit patterns (Uint16Array); float-tensor.ts widens them. */
export type DType = "F32" | "F64" | "F16" | "BF16" | "I32" | "I64" | "U8";
export type TensorData =
  | Float32Array
  | Float64Array
  | Int32Array
  | BigInt64Array
  | Uint8Array
  | Uint16Array;

export interface Tensor {
  dtype: DType;
  shape: number[];
  data: TensorData;
}

export interface DecodedSafetensors {
  tensors: Record<string, Tensor>;
  metadata: Record<string, string>;
}

export interface SafetensorsLimits {
  /** Upper bound on the JSON header length in bytes (default 1 MiB). */
  maxHeaderBytes?: number;
  /** Upper bound on the whole file length in bytes (default: unbounded). */
  maxBytes?: number;
}

export class SafetensorsError extends Error {
  readonly code = "SAFETENSORS_INVALID";
  override readonly name = "SafetensorsError";
}

const HEADER_LENGTH_BYTES = 8;
const HEADER_ALIGNMENT = 8;
const METADATA_KEY = "__metadata__";
const DEFAULT_MAX_HEADER_BYTES = 1024 * 1024;
const TENSOR_ENTRY_KEYS = ["data_offsets", "dtype", "shape"];

// fatal: invalid UTF-8 throws; decode() without {stream} keeps no state between calls.
const UTF8 = new TextDecoder("utf-8", { fatal: true });

const DTYPE_BYTES: Record<DType, number> = {
  F32: 4,
  F64: 8,
  F16: 2,
  BF16: 2,
  I32: 4,
  I64: 8,
  U8: 1,
};

type TypedArrayConstructor =
  | Float32ArrayConstructor
  | Float64ArrayConstructor
  | Int32ArrayConstructor
  | BigInt64ArrayConstructor
  | Uint8ArrayConstructor
  | Uint16ArrayConstructor;

const DTYPE_ARRAY: Record<DType, TypedArrayConstructor> = {
  F32: Float32Array,
  F64: Float64Array,
  F16: Uint16Array,
  BF16: Uint16Array,
  I32: Int32Array,
  I64: BigInt64Array,
  U8: Uint8Array,
};

// The reference implementation writes tensors by descending dtype (this order) and then by name,
// which keeps every tensor naturally aligned; following it makes our files byte-identical to its.
const WRITE_ORDER: Record<DType, number> = {
  I64: 0,
  F64: 1,
  F32: 2,
  I32: 3,
  BF16: 4,
  F16: 5,
  U8: 6,
};

// The format is little-endian; typed arrays use the host order, so a big-endian host would need
// byte swapping that this module does not implement.
const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function assertLittleEndianHost(): void {
  if (!HOST_IS_LITTLE_ENDIAN) {
    throw new SafetensorsError("safetensors I/O requires a little-endian host");
  }
}

function isDType(value: unknown): value is DType {
  return typeof value === "string" && Object.hasOwn(DTYPE_BYTES, value);
}

function elementCount(shape: readonly number[]): number {
  let count = 1;
  for (const dim of shape) count *= dim;
  return count;
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "string" ? JSON.stringify(value) : typeof value;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function assertEncodableTensor(name: string, tensor: Tensor): void {
  if (name.length === 0 || name === METADATA_KEY) {
    throw new TypeError(`tensor name must be a non-empty string other than ${METADATA_KEY}`);
  }
  if (!isDType(tensor.dtype)) {
    throw new TypeError(
      `tensor ${name}: expected dtype one of ${Object.keys(DTYPE_BYTES).join(", ")}, got ${describe(tensor.dtype)}`,
    );
  }
  if (!(tensor.data instanceof DTYPE_ARRAY[tensor.dtype])) {
    throw new TypeError(
      `tensor ${name}: dtype ${tensor.dtype} expects a ${DTYPE_ARRAY[tensor.dtype].name}`,
    );
  }
  if (!tensor.shape.every((dim) => Number.isSafeInteger(dim) && dim >= 0)) {
    throw new TypeError(
      `tensor ${name}: expected shape of non-negative integers, got [${tensor.shape}]`,
    );
  }
  const count = elementCount(tensor.shape);
  if (count !== tensor.data.length) {
    throw new TypeError(
      `tensor ${name}: shape [${tensor.shape}] holds ${count} elements but data has ${tensor.data.length}`,
    );
  }
}

export function encodeSafetensors(
  tensors: Record<string, Tensor>,
  metadata: Record<string, string> = {},
): Uint8Array {
  assertLittleEndianHost();
  for (const [name, tensor] of Object.entries(tensors)) assertEncodableTensor(name, tensor);
  const names = Object.keys(tensors).sort(
    (a, b) =>
      WRITE_ORDER[tensors[a]!.dtype] - WRITE_ORDER[tensors[b]!.dtype] ||
      Buffer.compare(Buffer.from(a), Buffer.from(b)),
  );
  const headerEntries: [string, unknown][] = [];
  const metadataEntries = Object.entries(metadata);
  if (metadataEntries.length > 0) {
    for (const [key, value] of metadataEntries) {
      if (typeof value !== "string") {
        throw new TypeError(`metadata ${key}: expected a string value, got ${describe(value)}`);
      }
    }
    headerEntries.push([METADATA_KEY, Object.fromEntries(metadataEntries)]);
  }
  let offset = 0;
  for (const name of names) {
    const tensor = tensors[name]!;
    const end = offset + tensor.data.byteLength;
    headerEntries.push([
      name,
      { dtype: tensor.dtype, shape: [...tensor.shape], data_offsets: [offset, end] },
    ]);
    offset = end;
  }

  // Serialized entry by entry: an object would move integer-like names first and reorder the header.
  const headerText = `{${headerEntries.map(([key, value]) => `${JSON.stringify(key)}:${JSON.stringify(value)}`).join(",")}}`;
  const json = new TextEncoder().encode(headerText);
  const padding = (HEADER_ALIGNMENT - (json.length % HEADER_ALIGNMENT)) % HEADER_ALIGNMENT;
  const headerLength = json.length + padding;
  const out = new Uint8Array(HEADER_LENGTH_BYTES + headerLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLength), true);
  out.set(json, HEADER_LENGTH_BYTES);
  out.fill(0x20, HEADER_LENGTH_BYTES + json.length, HEADER_LENGTH_BYTES + headerLength);

  let cursor = HEADER_LENGTH_BYTES + headerLength;
  for (const name of names) {
    const { data } = tensors[name]!;
    out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), cursor);
    cursor += data.byteLength;
  }
  return out;
}

/** Where one tensor's bytes lie, relative to the start of the data section. */
export interface TensorEntry {
  name: string;
  dtype: DType;
  shape: number[];
  begin: number;
  end: number;
}

/**
 * Where the header that the first 8 bytes declare ends (8 + its length), or undefined while
 * fewer than 8 bytes are there or the length passes maxHeaderBytes: readers of a file's first
 * bytes use it to know how many to read before readSafetensorsHeader.
 */
export function declaredHeaderEnd(prefix: Uint8Array, maxHeaderBytes: number): number | undefined {
  if (prefix.length < HEADER_LENGTH_BYTES) return undefined;
  const length = new DataView(prefix.buffer, prefix.byteOffset, HEADER_LENGTH_BYTES).getBigUint64(
    0,
    true,
  );
  return length > BigInt(maxHeaderBytes) ? undefined : HEADER_LENGTH_BYTES + Number(length);
}

function parseHeaderLength(bytes: Uint8Array, fileBytes: number, maxHeaderBytes: number): number {
  if (fileBytes < HEADER_LENGTH_BYTES || bytes.length < HEADER_LENGTH_BYTES) {
    throw new SafetensorsError(
      `file is ${fileBytes} bytes; expected at least ${HEADER_LENGTH_BYTES} for the header length`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, HEADER_LENGTH_BYTES);
  const length = view.getBigUint64(0, true);
  if (length > BigInt(maxHeaderBytes)) {
    throw new SafetensorsError(
      `header length ${length} exceeds the limit of ${maxHeaderBytes} bytes`,
    );
  }
  if (length > BigInt(fileBytes - HEADER_LENGTH_BYTES)) {
    throw new SafetensorsError(
      `header length ${length} exceeds the ${fileBytes - HEADER_LENGTH_BYTES} bytes after the length prefix`,
    );
  }
  if (length > BigInt(bytes.length - HEADER_LENGTH_BYTES)) {
    throw new RangeError(
      `header ends at byte ${HEADER_LENGTH_BYTES + Number(length)}; only ${bytes.length} given`,
    );
  }
  return Number(length);
}

function parseHeaderJson(bytes: Uint8Array, headerLength: number): Record<string, unknown> {
  let text: string;
  try {
    text = UTF8.decode(bytes.subarray(HEADER_LENGTH_BYTES, HEADER_LENGTH_BYTES + headerLength));
  } catch {
    throw new SafetensorsError("header is not valid UTF-8");
  }
  if (!text.startsWith("{")) {
    throw new SafetensorsError("header must be a JSON object starting with '{'");
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new SafetensorsError(`header is not valid JSON: ${(error as Error).message}`);
  }
  if (!isPlainObject(parsed)) {
    throw new SafetensorsError(`header must be a JSON object, got ${describe(parsed)}`);
  }
  return parsed;
}

function parseMetadata(value: unknown): Record<string, string> {
  if (!isPlainObject(value)) {
    throw new SafetensorsError(`${METADATA_KEY} must be an object, got ${describe(value)}`);
  }
  for (const key in value) {
    if (typeof value[key] !== "string") {
      throw new SafetensorsError(
        `${METADATA_KEY}.${key}: expected a string, got ${describe(value[key])}`,
      );
    }
  }
  // JSON.parse made this object, so it is plain and shares nothing with the caller.
  return value as Record<string, string>;
}

function isOffset(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

function parseTensorEntry(name: string, value: unknown): TensorEntry {
  if (!isPlainObject(value)) {
    throw new SafetensorsError(`tensor ${name}: expected an object, got ${describe(value)}`);
  }
  if (!hasExactly(value, TENSOR_ENTRY_KEYS)) {
    const keys = Object.keys(value).sort();
    throw new SafetensorsError(
      `tensor ${name}: expected exactly the keys ${TENSOR_ENTRY_KEYS.join(", ")}, got ${keys.join(", ") || "none"}`,
    );
  }
  const { dtype, shape, data_offsets: offsets } = value;
  if (!isDType(dtype)) {
    throw new SafetensorsError(
      `tensor ${name}: unsupported dtype ${describe(dtype)}; expected one of ${Object.keys(DTYPE_BYTES).join(", ")}`,
    );
  }
  if (!Array.isArray(shape) || !shape.every(isOffset)) {
    throw new SafetensorsError(
      `tensor ${name}: shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`,
    );
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isOffset)) {
    throw new SafetensorsError(
      `tensor ${name}: data_offsets must be [begin, end] non-negative integers, got ${JSON.stringify(offsets)}`,
    );
  }
  const [begin, end] = offsets as [number, number];
  const byteLength = elementCount(shape) * DTYPE_BYTES[dtype];
  if (!Number.isSafeInteger(byteLength)) {
    throw new SafetensorsError(`tensor ${name}: shape [${shape}] is too large`);
  }
  if (end < begin || end - begin !== byteLength) {
    throw new SafetensorsError(
      `tensor ${name}: data_offsets [${begin}, ${end}] span ${end - begin} bytes; ` +
        `shape [${shape}] of ${dtype} needs ${byteLength}`,
    );
  }
  return { name, dtype, shape: shape as number[], begin, end };
}

function hasExactly(value: Record<string, unknown>, keys: readonly string[]): boolean {
  let count = 0;
  for (const key in value) {
    if (!keys.includes(key)) return false;
    count++;
  }
  return count === keys.length;
}

function assertExactCoverage(entries: TensorEntry[], dataLength: number): void {
  const ordered = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let expected = 0;
  for (const entry of ordered) {
    if (entry.begin !== expected) {
      const problem = entry.begin < expected ? "overlaps the previous tensor" : "leaves a gap";
      throw new SafetensorsError(
        `tensor ${entry.name}: data_offsets [${entry.begin}, ${entry.end}] ${problem}; expected begin ${expected}`,
      );
    }
    if (entry.end > dataLength) {
      throw new SafetensorsError(
        `tensor ${entry.name}: data_offsets [${entry.begin}, ${entry.end}] exceed the ${dataLength} data bytes`,
      );
    }
    expected = entry.end;
  }
  if (expected !== dataLength) {
    throw new SafetensorsError(
      `tensors cover ${expected} of ${dataLength} data bytes; expected the data to be covered exactly`,
    );
  }
}

function copyTensor(data: Uint8Array, entry: TensorEntry): Tensor {
  const Type = DTYPE_ARRAY[entry.dtype];
  const start = data.byteOffset + entry.begin;
  const count = (entry.end - entry.begin) / DTYPE_BYTES[entry.dtype];
  let copy: TensorData;
  if (start % Type.BYTES_PER_ELEMENT === 0) {
    // slice() of an aligned view copies into an array of its own, which V8 keeps on its heap when
    // small: no separately allocated backing store per tensor.
    copy = (new Type(data.buffer as ArrayBuffer, start, count) as TensorData).slice();
  } else {
    // A fresh, zero-offset buffer keeps the typed array aligned. (Buffer#slice would not copy.)
    const bytes = new Uint8Array(entry.end - entry.begin);
    bytes.set(data.subarray(entry.begin, entry.end));
    copy = new Type(bytes.buffer);
  }
  return { dtype: entry.dtype, shape: entry.shape, data: copy };
}

export interface SafetensorsHeader {
  metadata: Record<string, string>;
  entries: TensorEntry[];
  /** Offset of the data section from the start of the file. */
  dataOffset: number;
}

/**
 * Parses and checks the header from the first bytes of a file of `fileBytes` bytes: enough to read
 * single tensors (tensorAt) without holding the whole file. `prefix` must hold the whole header.
 */
export function readSafetensorsHeader(
  prefix: Uint8Array,
  fileBytes: number,
  limits: SafetensorsLimits = {},
): SafetensorsHeader {
  assertLittleEndianHost();
  const maxBytes = limits.maxBytes ?? Number.POSITIVE_INFINITY;
  if (fileBytes > maxBytes) {
    throw new SafetensorsError(`file is ${fileBytes} bytes; the limit is ${maxBytes}`);
  }
  const headerLength = parseHeaderLength(
    prefix,
    fileBytes,
    limits.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES,
  );
  const header = parseHeaderJson(prefix, headerLength);
  let metadata: Record<string, string> = {};
  const entries: TensorEntry[] = [];
  for (const [name, value] of Object.entries(header)) {
    if (name === METADATA_KEY) metadata = parseMetadata(value);
    else entries.push(parseTensorEntry(name, value));
  }
  const dataOffset = HEADER_LENGTH_BYTES + headerLength;
  assertExactCoverage(entries, fileBytes - dataOffset);
  return { metadata, entries, dataOffset };
}

/** A copy of one tensor; `bytes` holds the file from its start at least to the tensor's end. */
export function tensorAt(bytes: Uint8Array, header: SafetensorsHeader, entry: TensorEntry): Tensor {
  const end = header.dataOffset + entry.end;
  if (bytes.length < end) {
    throw new RangeError(`tensor ${entry.name} ends at byte ${end}; only ${bytes.length} given`);
  }
  return copyTensor(bytes.subarray(header.dataOffset), entry);
}

export function decodeSafetensors(
  bytes: Uint8Array,
  limits: SafetensorsLimits = {},
): DecodedSafetensors {
  const header = readSafetensorsHeader(bytes, bytes.length, limits);
  const tensors = Object.fromEntries(
    header.entries.map((entry) => [entry.name, tensorAt(bytes, header, entry)]),
  );
  return { tensors, metadata: header.metadata };
}

/** A copy of one tensor from exactly its own bytes (read from a file at the entry's offsets). */
export function tensorFromBytes(entry: TensorEntry, bytes: Uint8Array): Tensor {
  const length = entry.end - entry.begin;
  if (bytes.length !== length) {
    throw new RangeError(`tensor ${entry.name}: expected ${length} bytes, got ${bytes.length}`);
  }
  return copyTensor(bytes, { ...entry, begin: 0, end: length });
}
