import { benchUserId } from "./adapters.js";
import type { LoadResult } from "./load.js";
import type { Durations, Phase } from "./options.js";
import type { RawRunner } from "./raw.js";
import type { Figures } from "./result.js";
import {
  inferenceRate,
  meanBatch,
  pairedRatios,
  rates,
  type Sample,
  sampled,
  total,
  windows,
} from "./samples.js";
import { type BatchedRunLength, sharedLoad, TextCursor, uniqueLoad } from "./scenarios.js";
import type { ChildServer } from "./server.js";
import { median, ratioOfMedians, round } from "./stats.js";
import {
  MatrixComparison,
  OPENRLHF_CONCURRENCY,
  OPENRLHF_USERS,
  openrlhfLoad,
} from "./trainers.js";
import { UsersComparison } from "./users10k.js";

export const SHARED_USERS = 8;
export const UNIQUE_CONCURRENCY = 128;
const SHARED_LOOPS_PER_USER = 8;
const SHARED_ITEMS = 8;

export interface RoundsContext {
  phases: readonly Phase[];
  durations: Durations;
  raw: { runner: RawRunner; batch: number } | undefined;
  /** Default settings, for unique, shared, openrlhf and matrix; adapters of benchUserId(0..). */
  main: ChildServer | undefined;
  /** users10k: a default server and a 1-byte-adapter-cache server on the same adapters. */
  hot: ChildServer | undefined;
  cold: ChildServer | undefined;
  log(message: string): void;
}

export interface RoundsOutcome {
  figures: Partial<Figures>;
  details: Record<string, unknown>;
  notes: string[];
}

/**
 * Raw onnxruntime and the servers measured alternately, round after round, every server run
 * between two raw runs, so slow spells of a shared machine hit both sides; every figure ratio
 * is a ratio of medians (details also give each run over its neighbouring raw runs).
 */
export async function runRounds(ctx: RoundsContext): Promise<RoundsOutcome> {
  const { durations: d, main, hot, cold, raw, log } = ctx;
  const has = (phase: Phase) => ctx.phases.includes(phase);
  const rawRuns: number[] = [];
  const unique: Sample[] = [];
  const shared: Sample[] = [];
  const openrlhf: Sample[] = [];
  const uniqueCursor = new TextCursor("u");
  const sharedCursor = new TextCursor("s");
  const openrlhfCursor = new TextCursor("o");
  const sharedUsers = Array.from({ length: SHARED_USERS }, (_, i) => benchUserId(i));
  const openrlhfUsers = Array.from({ length: OPENRLHF_USERS }, (_, i) => benchUserId(i));
  const users = hot && cold ? new UsersComparison(hot, cold, d) : undefined;
  const matrix =
    main && has("matrix") ? new MatrixComparison(main, new TextCursor("me"), d) : undefined;
  const batched: BatchedRunLength = {
    durationMs: d.batchedMs,
    minBursts: d.minBursts,
    maxDurationMs: d.maxBatchedMs,
  };
  // The runs measured against raw onnxruntime, each between two raw runs.
  const serverRuns: { samples: Sample[]; run: (server: ChildServer) => Promise<LoadResult> }[] = [];
  if (main && has("unique")) {
    serverRuns.push({
      samples: unique,
      run: (server) => uniqueLoad(server.client, uniqueCursor, UNIQUE_CONCURRENCY, batched),
    });
  }
  if (main && has("shared")) {
    const options = { loopsPerUser: SHARED_LOOPS_PER_USER, items: SHARED_ITEMS, length: batched };
    serverRuns.push({
      samples: shared,
      run: (server) => sharedLoad(server.client, sharedUsers, sharedCursor, options),
    });
  }
  if (main && has("openrlhf")) {
    serverRuns.push({
      samples: openrlhf,
      run: (server) =>
        openrlhfLoad(server.client, openrlhfCursor, openrlhfUsers, OPENRLHF_CONCURRENCY, batched),
    });
  }

  const warmup = { durationMs: d.serverWarmupMs, minBursts: 0, maxDurationMs: 0 };
  if (main && (has("unique") || has("shared"))) {
    log("warming the server up (not measured)");
    await uniqueLoad(main.client, uniqueCursor, UNIQUE_CONCURRENCY, warmup);
  }
  if (main && has("openrlhf")) {
    log("warming /get_reward up (not measured; the labelled users' adapters get cached)");
    await openrlhfLoad(main.client, openrlhfCursor, openrlhfUsers, OPENRLHF_CONCURRENCY, warmup);
  }
  if (users) {
    log("warming the users10k servers up (feature caches, adapter paths)");
    await users.warm();
  }
  if (matrix) {
    log("warming the matrix requests up (feature cache, 1,000 adapters into the adapter cache)");
    await matrix.warm();
  }

  const measureRaw = async () => {
    if (raw) rawRuns.push((await raw.runner.measure(raw.batch, d.rawRoundMs, false)).seqPerS);
  };
  for (let r = 0; (raw || serverRuns.length > 0 || users || matrix) && r < d.rounds; r++) {
    log(`round ${r + 1} of ${d.rounds}`);
    if (serverRuns.length === 0) await measureRaw();
    for (const { samples, run } of serverRuns) {
      await measureRaw();
      samples.push(await sampled(main!, rawRuns.length - 1, () => run(main!)));
    }
    await users?.round();
    await matrix?.round();
  }
  if (serverRuns.length > 0) await measureRaw();

  const figures: Partial<Figures> = {};
  const details: Record<string, unknown> = {};
  const notes: string[] = [];
  if (raw && rawRuns.length > 0) {
    figures.raw_seq_per_s = round(median(rawRuns), 2);
    figures.raw_batch = raw.batch;
    details["raw_runs"] = rawRuns.map((x) => round(x, 2));
  }
  if (unique.length > 0) {
    figures.server_seq_per_s = round(median(rates(unique)), 2);
    figures.ratio_unique = round(ratioOfMedians(rates(unique), rawRuns), 3);
    details["unique"] = {
      runs: rates(unique),
      windows: windows(unique),
      paired_ratios: pairedRatios(unique, rawRuns),
      mean_server_batch: meanBatch(unique),
      server_inference_texts_per_s: inferenceRate(unique),
    };
    notes.push(
      `server_seq_per_s: ${UNIQUE_CONCURRENCY} concurrent clients, one never-seen text per ` +
        "request, global reward; the rate is taken between the ends of the first and last " +
        "burst of answers (one burst per backbone batch).",
    );
  }
  if (shared.length > 0) {
    figures.shared_scores_per_s = round(median(rates(shared)), 2);
    figures.ratio_shared_8_users = round(ratioOfMedians(rates(shared), rawRuns), 3);
    const scores = shared.reduce((n, s) => n + s.load.requests * SHARED_ITEMS, 0);
    const backbone = total(shared, "sharelora_batch_size_sum");
    details["shared"] = {
      runs: rates(shared),
      windows: windows(shared),
      paired_ratios: pairedRatios(shared, rawRuns),
      mean_server_batch: meanBatch(shared),
      scores_per_backbone_text: backbone ? round(scores / backbone, 2) : null,
    };
    notes.push(
      `ratio_shared_8_users: ${SHARED_USERS} users with adapters on disk each score the same ` +
        `never-seen texts (${SHARED_ITEMS} per request, ${SHARED_LOOPS_PER_USER} requests in ` +
        "flight per user); user-scored texts/s over raw_seq_per_s.",
    );
  }
  if (openrlhf.length > 0) {
    figures.openrlhf_texts_per_s = round(median(rates(openrlhf)), 2);
    figures.ratio_openrlhf_single = round(ratioOfMedians(rates(openrlhf), rawRuns), 3);
    details["openrlhf"] = {
      runs: rates(openrlhf),
      windows: windows(openrlhf),
      paired_ratios: pairedRatios(openrlhf, rawRuns),
      mean_server_batch: meanBatch(openrlhf),
      server_inference_texts_per_s: inferenceRate(openrlhf),
      adapter_cache_misses: total(openrlhf, "sharelora_adapter_cache_misses_total"),
    };
    notes.push(
      `ratio_openrlhf_single: OpenRLHF's remote reward model pattern, ${OPENRLHF_CONCURRENCY} ` +
        'concurrent clients each POSTing one never-seen sample to /get_reward ({"query": ' +
        '[prompt+response], "prompts": [prompt], "labels": [user]}, the labels cycling over ' +
        `${OPENRLHF_USERS} users with adapters); texts/s over raw_seq_per_s.`,
    );
  }
  if (users) {
    const outcome = users.outcome();
    Object.assign(figures, outcome.figures);
    Object.assign(details, outcome.details);
    notes.push(...outcome.notes);
  }
  if (matrix) {
    const outcome = matrix.outcome();
    Object.assign(figures, outcome.figures);
    Object.assign(details, outcome.details);
    notes.push(...outcome.notes);
  }
  return { figures, details, notes };
}
