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

/**
 * out[0 .. d·m) += A·B for A d×k at a[aOffset ..) and B k×m at b[bOffset ..), row-major; zero
 * entries of A are skipped.
 */
export function addProduct(
  a: Float64Array,
  aOffset: number,
  b: Float64Array,
  bOffset: number,
  d: number,
  k: number,
  m: number,
  out: Float64Array,
): void {
  for (let i = 0; i < d; i++) {
    const aRow = aOffset + i * k;
    const outRow = i * m;
    for (let x = 0; x < k; x++) {
      const aix = a[aRow + x];
      if (aix === 0) continue;
      const bRow = bOffset + x * m;
      for (let c = 0; c < m; c++) out[outRow + c] += aix * b[bRow + c];
    }
  }
}

/**
 * out[outOffset .. + k·m) += Aᵀ·X for A d×k and X d×m at x[xOffset ..), row-major; zero entries
 * of A are skipped.
 */
export function addTransposedProduct(
  a: Float64Array,
  d: number,
  k: number,
  m: number,
  x: Float64Array,
  xOffset: number,
  out: Float64Array,
  outOffset: number,
): void {
  for (let i = 0; i < d; i++) {
    const aRow = i * k;
    const xRow = xOffset + i * m;
    for (let y = 0; y < k; y++) {
      const aiy = a[aRow + y];
      if (aiy === 0) continue;
      const outRow = outOffset + y * m;
      for (let c = 0; c < m; c++) out[outRow + c] += aiy * x[xRow + c];
    }
  }
}
