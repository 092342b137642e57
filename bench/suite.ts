import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_MODEL_DIR, PACKAGE_ROOT } from "../src/config.js";
import { readHead } from "../src/model/head-file.js";
import { loadModelDir } from "../src/model/manifest.js";
import { ensureStoreFixture, type HeadShape } from "./adapters.js";
import { fitterReport, timeEndToEndFit } from "./fit.js";
import { describeMachine } from "./machine.js";
import { type BenchOptions, durations, type Phase, RAW_BATCHES } from "./options.js";
import { timeQueries } from "./queries.js";
import { RawRunner } from "./raw.js";
import { type BenchResult, checkTargets, emptyFigures, type Figures } from "./result.js";
import { runRounds } from "./rounds.js";
import { measureRss100k, rssReport } from "./rss.js";
import { TextCursor } from "./scenarios.js";
import { measureSequenceModel } from "./sequence.js";
import { ChildServer } from "./server.js";
import { mib, round } from "./stats.js";
import { benchTexts } from "./texts.js";
import { USERS_10K } from "./users10k.js";

export const CACHE_DIR = join(PACKAGE_ROOT, ".cache");
const FIT_PAIRS = 32;

export async function runSuite(
  options: BenchOptions,
  log: (message: string) => void,
): Promise<BenchResult> {
  const started = performance.now();
  const has = (phase: Phase) => options.phases.includes(phase);
  const d = durations(options.quick);
  const figures: Figures = emptyFigures();
  const notes: string[] = [];
  const details: Record<string, unknown> = {};
  let provider: string | null = null;

  const model = await loadModelDir(DEFAULT_MODEL_DIR);
  const head = await readHead(model.headDir);
  const shape: HeadShape = { hash: head.hash, k: head.k, m: head.m };
  details["model"] = {
    id: model.manifest.id,
    backbone_mib: round(mib(model.backbone.bytes.byteLength), 2),
    d: head.d,
    m: head.m,
    k: head.k,
    text_bytes: 128,
  };

  let raw: RawRunner | undefined;
  let rawBatch = 0;
  if (has("raw")) {
    log(`raw onnxruntime: trying batch sizes ${RAW_BATCHES.join(", ")}`);
    raw = await RawRunner.create(DEFAULT_MODEL_DIR, benchTexts("raw", 0, 2048));
    const calibration = await raw.calibrate(
      RAW_BATCHES,
      d.rawCalibrationMs,
      d.rawCalibrationPasses,
    );
    const best = calibration.reduce((a, b) => (b.seqPerS > a.seqPerS ? b : a));
    rawBatch = best.batch;
    details["raw_calibration"] = calibration.map((c) => ({
      batch: c.batch,
      seq_per_s: round(c.seqPerS, 2),
    }));
    log(`raw: best batch ${rawBatch} (${best.seqPerS.toFixed(1)} texts/s)`);
  }

  const needsUsers = has("shared") || has("openrlhf") || has("users10k") || has("matrix");
  const needsMain =
    has("unique") ||
    has("shared") ||
    has("openrlhf") ||
    has("matrix") ||
    has("fit") ||
    has("queries");
  let adaptersDir: string | undefined;
  let scratchDir: string | undefined;
  if (needsUsers) {
    adaptersDir = join(CACHE_DIR, "bench-adapters-10k");
    log(`writing or reusing ${USERS_10K} adapters (FileAdapterStore.update) in ${adaptersDir}`);
    const fixture = await ensureStoreFixture(adaptersDir, USERS_10K, shape);
    details["fixture_10k"] = { reused: fixture.reused, seconds: round(fixture.seconds, 1) };
  } else if (needsMain) {
    scratchDir = await mkdtemp(join(tmpdir(), "sharelora-bench-"));
    adaptersDir = scratchDir;
  }

  let main: ChildServer | undefined;
  let hot: ChildServer | undefined;
  let cold: ChildServer | undefined;
  try {
    if (needsMain || has("users10k")) {
      log("starting the servers");
      const defaults = { adapters: adaptersDir!, device: "cpu" };
      const coldSettings = { ...defaults, adapterCacheBytes: 1, negativeCacheMs: 0 };
      [main, hot, cold] = await Promise.all([
        needsMain ? ChildServer.start(defaults) : undefined,
        has("users10k") ? ChildServer.start(defaults) : undefined,
        has("users10k") ? ChildServer.start(coldSettings) : undefined,
      ]);
      provider = (await (main ?? hot)!.info()).provider;
    }
    const rounds = await runRounds({
      phases: options.phases,
      durations: d,
      raw: raw ? { runner: raw, batch: rawBatch } : undefined,
      main,
      hot,
      cold,
      log,
    });
    Object.assign(figures, rounds.figures);
    Object.assign(details, rounds.details);
    notes.push(...rounds.notes);

    if (main && has("fit")) {
      log(`fit over HTTP with ${FIT_PAIRS} new pairs`);
      const cursor = new TextCursor("f");
      const user = (run: number) => `bench-fit-${process.pid}-${run}`;
      const e2e = await timeEndToEndFit(
        main.client,
        user,
        () => Array.from({ length: FIT_PAIRS }, () => cursor.take(2)),
        d.fitEndToEndRuns,
      );
      figures.fit_e2e_ms_32 = e2e.ms === null ? null : round(e2e.ms, 1);
      if (e2e.ms === null) notes.push(`fit_e2e_ms_32: ${e2e.note}`);
      for (let run = 0; run < d.fitEndToEndRuns; run++) {
        await main.client.delete(`/v1/users/${user(run)}`);
      }
    }

    if (main && has("queries")) {
      log("choosing 8 queries from 64 prompts × 8 responses over HTTP, features cached");
      const user = `bench-queries-${process.pid}`;
      const timing = await timeQueries(main.client, user, d.queryRuns);
      figures.queries_ms_64x8 = timing.ms === null ? null : round(timing.ms, 2);
      if (timing.ms === null) notes.push(`queries_ms_64x8: ${timing.note}`);
      else {
        notes.push(
          "queries_ms_64x8: POST /v1/users/:user/queries, 8 pairs by information gain from 64 " +
            "prompts × 8 responses (1,792 pairs), all texts in the feature cache, a user without an " +
            "adapter (population prior); median over the timed runs, the HTTP round trip included.",
        );
      }
    }
  } finally {
    await Promise.all([main?.stop(), hot?.stop(), cold?.stop()]);
    await raw?.dispose();
    if (scratchDir) await rm(scratchDir, { recursive: true, force: true });
  }

  if (has("rss100k")) {
    const outcome = await measureRss100k(
      join(CACHE_DIR, "bench-adapters-100k"),
      shape,
      d.rssIdleMs,
      options.rssPasses,
      log,
    );
    provider ??= outcome.provider;
    const report = rssReport(outcome);
    Object.assign(figures, report.figures);
    details["rss_100k"] = report.details;
    notes.push(report.note);
  }

  if (has("sequence")) {
    const outcome = await measureSequenceModel(d, CACHE_DIR, log);
    Object.assign(figures, outcome.figures);
    details["sequence_model"] = outcome.details;
    notes.push(outcome.note);
  }

  if (has("fit")) {
    log("fitter on planted pair statistics");
    const report = fitterReport(head, d.fitBudgetMs);
    Object.assign(figures, report.figures);
    details["fit"] = report.details;
    notes.push(report.note);
  }

  if (needsMain || has("users10k") || has("rss100k") || has("sequence")) {
    notes.push(
      "Servers run as child processes (node dist/cli.js serve --device cpu, compiled first; " +
        "--log-level warn); the load generator (node:http, keep-alive) shares the cores with them.",
    );
  }
  return {
    machine: describeMachine(),
    provider: provider ?? (raw ? "cpu" : null),
    options: { quick: options.quick, phases: options.phases, rss_passes: options.rssPasses },
    figures,
    targets: checkTargets(figures),
    details,
    notes,
    seconds: round((performance.now() - started) / 1000, 1),
  };
}
