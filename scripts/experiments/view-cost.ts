/**
 * What the count views cost a backbone pass: the default backbone without count views, with the
 * surface statistics (the default), and with byte counts too, on the same batches of 64 distinct
 * ~128-byte texts, in rotating order, ratios of medians.
 *
 *   node --import tsx scripts/experiments/view-cost.ts [rounds]
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
  plain: await ort.InferenceSession.create(
    buildDefaultBackbone({ ...DEFAULT_BACKBONE_OPTIONS, surface: false, byteCounts: false }),
  ),
  surface: await ort.InferenceSession.create(
    buildDefaultBackbone({ ...DEFAULT_BACKBONE_OPTIONS, surface: true, byteCounts: false }),
  ),
  both: await ort.InferenceSession.create(
    buildDefaultBackbone({ ...DEFAULT_BACKBONE_OPTIONS, surface: true, byteCounts: true }),
  ),
};
type Name = keyof typeof sessions;
const names = Object.keys(sessions) as Name[];
const times: Record<Name, number[]> = { plain: [], surface: [], both: [] };
const once = async (name: Name) => {
  const t0 = performance.now();
  await sessions[name].run(feed);
  return performance.now() - t0;
};
for (const name of names) await once(name);
for (let r = 0; r < rounds; r++) {
  for (let i = 0; i < names.length; i++) {
    const name = names[(r + i) % names.length]!;
    times[name].push(await once(name));
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ms = (name: Name) => median(times[name]);
const ratio = (name: Name) => Math.round((ms(name) / ms("plain")) * 1000) / 1000;
console.log(
  JSON.stringify({
    batch: BATCH,
    max_length: length,
    rounds,
    plain_ms: Math.round(ms("plain")),
    surface_ms: Math.round(ms("surface")),
    surface_and_bytes_ms: Math.round(ms("both")),
    surface_over_plain: ratio("surface"),
    surface_and_bytes_over_plain: ratio("both"),
  }),
);
