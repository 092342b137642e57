/**
 * out (rows×cols) = A·B for A rows×inner and the first `cols` columns of B (inner×bCols), all
 * row-major. Each entry is one sum over the inner index in increasing order.
 */
export function multiplyLeadingColumns(
  a: Float64Array,
  b: Float64Array,
  rows: number,
  inner: number,
  cols: number,
  bCols = cols,
  out = new Float64Array(rows * cols),
): Float64Array {
  for (let i = 0; i < rows; i++) {
    for (let c = 0; c < cols; c++) {
      let s = 0;
      for (let x = 0; x < inner; x++) s += a[i * inner + x] * b[x * bCols + c];
      out[i * cols + c] = s;
    }
  }
  return out;
}
