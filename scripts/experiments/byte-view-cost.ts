/**
 * What the byte-count view costs a backbone pass: the default backbone with and without it, on
 * the same batches of 64 distinct ~128-byte texts, alternating, ratio of medians.
 *
 *   node --import tsx scripts/experiments/byte-view-cost.ts [rounds]
 */
import * as ort from "onnxruntime-node";
import { benchTexts } from "../../bench/texts.js";
import { DEFAULT_BACKBONE_OPTIONS } from "../../src/model/build-default-cli.js";
import { BYTE_VOCAB, buildDefaultBackbone } from "../../src/model/default-backbone.js";

const rounds = Number(process.argv[2] ?? 7);
const BATCH = 64;
const texts = benchTexts("cost", 0, BATCH);
const seqs = texts.map((t) => [
  BYTE_VOCAB.bos,
  ...Buffer.from(t.prompt),
  BYTE_VOCAB.sep,
  ...Buffer.from(t.response),
  BYTE_VOCAB.eos,
]);
const length = Math.max(...seqs.map((s) => s.length));
const ids = new BigInt64Array(BATCH * length).fill(BigInt(BYTE_VOCAB.pad));
const mask = new BigInt64Array(BATCH * length);
for (const [b, s] of seqs.entries()) {
  for (const [t, id] of s.entries()) {
    ids[b * length + t] = BigInt(id);
    mask[b * length + t] = 1n;
  }
}
const feed = {
  input_ids: new ort.Tensor("int64", ids, [BATCH, length]),
  attention_mask: new ort.Tensor("int64", mask, [BATCH, length]),
};
const sessions = {
  plain: await ort.InferenceSession.create(buildDefaultBackbone(DEFAULT_BACKBONE_OPTIONS)),
  counts: await ort.InferenceSession.create(
    buildDefaultBackbone({ ...DEFAULT_BACKBONE_OPTIONS, byteCounts: true }),
  ),
};
const times: Record<keyof typeof sessions, number[]> = { plain: [], counts: [] };
const once = async (name: keyof typeof sessions) => {
  const t0 = performance.now();
  await sessions[name].run(feed);
  return performance.now() - t0;
};
await once("plain");
await once("counts");
for (let r = 0; r < rounds; r++) {
  for (const name of r % 2 === 0
    ? (["plain", "counts"] as const)
    : (["counts", "plain"] as const)) {
    times[name].push(await once(name));
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const plain = median(times.plain);
const counts = median(times.counts);
console.log(
  JSON.stringify({
    batch: BATCH,
    max_length: length,
    rounds,
    plain_ms: Math.round(plain),
    counts_ms: Math.round(counts),
    counts_over_plain: Math.round((counts / plain) * 1000) / 1000,
  }),
);
