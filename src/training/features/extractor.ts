import { createTokenizer } from "../../inference/create-tokenizer.js";
import { FeatureEngine, type TextPair } from "../../inference/engine.js";
import { OnnxBackend } from "../../inference/onnx-backend.js";
import { createModelRenderer, type ItemRenderer } from "../../inference/render.js";
import type { Head } from "../../model/head-file.js";
import { loadModelDir, type ModelDirectory } from "../../model/manifest.js";
import { FeatureDiskCache, textKey } from "./disk-cache.js";

export interface ExtractProgress {
  done: number;
  total: number;
  cached: number;
}

/**
 * Φ(x) for training, through the server's own tokenizer, batcher and ONNX sessions: the head
 * graph gets B = I and Θ0 = 0, so its projection output is Φ itself (d×m), pooled as served.
 */
export class FeatureExtractor {
  readonly model: ModelDirectory;
  readonly d: number;
  readonly m: number;
  /** Renders items for this model as the server does. */
  readonly renderer: ItemRenderer;
  readonly #engine: FeatureEngine;
  readonly #backend: OnnxBackend;
  readonly #cache: FeatureDiskCache | undefined;

  private constructor(
    model: ModelDirectory,
    engine: FeatureEngine,
    backend: OnnxBackend,
    renderer: ItemRenderer,
    cache?: FeatureDiskCache,
  ) {
    this.model = model;
    this.renderer = renderer;
    this.d = model.manifest.d;
    this.m = model.manifest.m;
    this.#engine = engine;
    this.#backend = backend;
    this.#cache = cache;
  }

  static async open(options: {
    modelDir: string;
    cacheDir?: string;
    device?: string;
  }): Promise<FeatureExtractor> {
    const model = await loadModelDir(options.modelDir, { needsHead: false });
    const { d, m } = model.manifest;
    const B = new Float32Array(d * d);
    for (let i = 0; i < d; i++) B[i * d + i] = 1;
    const identity: Head = {
      d,
      m,
      k: d,
      theta0: new Float32Array(d * m),
      b0: 0,
      B,
      hash: "identity",
      modelId: model.manifest.id,
    };
    const tokenizer = await createTokenizer(model.manifest, model.dir);
    const backend = await OnnxBackend.create({
      backbone: model.backbone.source,
      backboneOutput: model.manifest.backbone.output,
      ...(model.manifest.backbone.output_dtype
        ? { outputDtype: model.manifest.backbone.output_dtype }
        : {}),
      pooling: model.manifest.pooling,
      paddingSide: model.manifest.padding_side,
      head: identity,
      padId: tokenizer.padId,
      device: options.device ?? "cpu",
    });
    const engine = new FeatureEngine({
      backend,
      tokenizer,
      maxLength: model.manifest.max_length,
      encoding: model.manifest.encoding,
      headHash: identity.hash,
      featureCacheBytes: 0,
      batcher: { maxBatchTokens: 16384, maxBatchSize: 32, maxWaitMs: 0, maxQueued: 1 << 20 },
    });
    const cache =
      options.cacheDir === undefined
        ? undefined
        : await FeatureDiskCache.open(options.cacheDir, model.backbone.sha256, d * m);
    const renderer = createModelRenderer(model.manifest, tokenizer);
    return new FeatureExtractor(model, engine, backend, renderer, cache);
  }

  /** Φ of every text, in order (d×m row-major each); repeated texts are computed once. */
  async extract(
    texts: readonly TextPair[],
    onProgress?: (p: ExtractProgress) => void,
  ): Promise<Float32Array[]> {
    const keys = texts.map((t) => textKey(t.prompt, t.response));
    const found = new Map<string, Float32Array>();
    const missing: { key: string; text: TextPair }[] = [];
    const seen = new Set<string>();
    keys.forEach((key, i) => {
      if (seen.has(key)) return;
      seen.add(key);
      const hit = this.#cache?.get(key);
      if (hit) found.set(key, hit);
      else missing.push({ key, text: texts[i]! });
    });
    const total = seen.size;
    const cached = found.size;
    onProgress?.({ done: cached, total, cached });
    const chunk = 32;
    for (let i = 0; i < missing.length; i += chunk) {
      const part = missing.slice(i, i + chunk);
      const features = await this.#engine.features(part.map((p) => p.text));
      const records = part.map((p, j) => ({ key: p.key, value: features[j]!.proj }));
      await this.#cache?.append(records);
      for (const r of records) found.set(r.key, r.value);
      onProgress?.({ done: cached + i + part.length, total, cached });
    }
    return keys.map((key) => found.get(key)!);
  }

  async close(): Promise<void> {
    await this.#engine.drain();
    await this.#backend.dispose();
  }
}
