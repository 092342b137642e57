import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { copyFile, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, loadConfig, PACKAGE_ROOT } from "../../src/config.js";
import { seededHead, writeHead } from "../../src/model/head-file.js";
import { encodeModel } from "../../src/model/onnx/encode-model.js";
import { GraphBuilder } from "../../src/model/onnx/graph-builder.js";
import { int } from "../../src/model/onnx/types.js";
import { startServer } from "../../src/server.js";

const env = Object.fromEntries(
  Object.entries(process.env).filter(([name]) => !name.startsWith("SHARELORA_")),
);
const D = 8;

/** A toy backbone: mean-poolable hidden states of width `width`, with optional extra parts. */
function backbone(options: { width?: number; extraInput?: string; intOutput?: boolean }) {
  const width = options.width ?? D;
  const g = new GraphBuilder("toy");
  g.input("input_ids", "int64", ["batch", "seq"]);
  g.input("attention_mask", "int64", ["batch", "seq"]);
  if (options.extraInput) g.input(options.extraInput, "int64", ["batch", "seq"]);
  const table = Float32Array.from({ length: 260 * width }, (_, i) => Math.sin(i) / 4);
  let h = g.op("Gather", [g.floatInit("emb", table, [260, width]), "input_ids"]);
  if (options.intOutput) h = g.op("Cast", [h], { to: int(7) });
  g.output(h, "last_hidden_state", options.intOutput ? "int64" : "float32", [
    "batch",
    "seq",
    width,
  ]);
  return encodeModel(g);
}

async function modelDir(root: string, name: string, model: Uint8Array): Promise<string> {
  const dir = join(root, name);
  await mkdir(join(dir, "head"), { recursive: true });
  await writeFile(join(dir, "model.onnx"), model);
  await writeFile(
    join(dir, "manifest.json"),
    JSON.stringify({
      id: name,
      tokenizer: { type: "bytes", pad_id: 256, bos_id: 257, sep_id: 258, eos_id: 259 },
      max_length: 64,
      pooling: "mean",
      d: D,
      m: 1,
      backbone: { file: "model.onnx", output: "last_hidden_state" },
      head: "head",
    }),
  );
  await writeHead(join(dir, "head"), seededHead({ d: D, m: 1, k: 2, seed: 3, modelId: name }));
  return dir;
}

async function refusal(settings: Record<string, unknown>): Promise<ConfigError> {
  const config = loadConfig({ port: 0, logLevel: "silent", device: "cpu", ...settings }, {});
  const error = await startServer(config, { logger: false }).then(
    async (server) => {
      await server.close();
      throw new Error("the server started");
    },
    (failure: unknown) => failure,
  );
  expect(error).toBeInstanceOf(ConfigError);
  return error as ConfigError;
}

describe("a model that cannot run is refused at start-up, naming --model", () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "sharelora-startup-"));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it("serves a toy model that can run (the control)", async () => {
    const dir = await modelDir(root, "fine", backbone({}));
    const config = loadConfig(
      { port: 0, logLevel: "silent", device: "cpu", model: dir, adapters: join(root, "a0") },
      {},
    );
    const server = await startServer(config, { logger: false });
    try {
      const res = await fetch(`${server.url}/ready`);
      expect(res.status).toBe(200);
    } finally {
      await server.close();
    }
  });

  it("an input it cannot feed, an output it does not read, a width that is not d", async () => {
    const cases = [
      [
        backbone({ extraInput: "past_key_values.0.key" }),
        /declares input "past_key_values\.0\.key"/,
      ],
      [backbone({ intOutput: true }), /float32/],
      [backbone({ width: D + 3 }), /backbone cannot run/],
    ] as const;
    for (const [i, [model, why]] of cases.entries()) {
      const dir = await modelDir(root, `broken-${i}`, model);
      const error = await refusal({ model: dir, adapters: join(root, `a${i + 1}`) });
      expect(error.message).toMatch(/^--model /);
      expect(error.message).toMatch(why);
    }
  });

  it("a missing model or head", async () => {
    const missing = await refusal({ model: join(root, "nowhere"), adapters: join(root, "b") });
    expect(missing.message).toMatch(/^--model /);
    const head = await refusal({ head: join(root, "no-head"), adapters: join(root, "c") });
    expect(head.message).toMatch(/^--head /);
  });
});

describe("sharelora serve exits 2 on a setting that cannot serve, before anything listens", () => {
  let dir: string;
  let busy: Server;
  let busyPort: number;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "sharelora-startup-cli-"));
    busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, "127.0.0.1", resolve));
    busyPort = (busy.address() as { port: number }).port;
  });
  afterAll(async () => {
    busy.close();
    await rm(dir, { recursive: true, force: true });
  });

  const serve = (args: string[]) =>
    spawnSync(
      process.execPath,
      ["--import", "tsx", "src/cli.ts", "serve", "--log-level", "info", ...args],
      { cwd: PACKAGE_ROOT, env, encoding: "utf8", timeout: 60_000 },
    );

  it("names the setting for each, and never says it is listening", async () => {
    const file = join(dir, "a-file");
    await copyFile(join(PACKAGE_ROOT, "package.json"), file);
    const adapters = ["--adapters", join(dir, "adapters")];
    const cases: [string[], RegExp][] = [
      [["--port", "0", "--device", "cuda", ...adapters], /^--device cuda: /m],
      [["--port", "0", "--model", join(dir, "nowhere"), ...adapters], /^--model /m],
      [["--port", "0", "--head", join(dir, "nowhere"), ...adapters], /^--head /m],
      [["--port", "0", "--adapters", file], /^--adapters .*exists and is not a directory/m],
      [["--port", "0", "--adapters", "http://x/"], /--adapters.*redis:\/\//],
      [
        ["--port", String(busyPort), ...adapters],
        new RegExp(`^--port ${busyPort}: the port is in use`, "m"),
      ],
      [
        ["--port", "18555", "--metrics-port", "18555", ...adapters],
        /--metrics-port: must differ from --port/,
      ],
      [
        ["--port", "0", "--adapters", "redis://127.0.0.1:1/0"],
        /^--adapters redis:\/\/127\.0\.0\.1:1\/0: /m,
      ],
    ];
    for (const [args, why] of cases) {
      const run = serve(args);
      expect(run.status, `${args.join(" ")}\n${run.stderr}`).toBe(2);
      expect(run.stderr, args.join(" ")).toMatch(why);
      expect(`${run.stdout}${run.stderr}`, args.join(" ")).not.toMatch(/listening/i);
    }
    expect(serve(["--port", "0", "--adapters", "http://x/"]).status).toBe(2);
  });

  it("fit refuses --rank 0 before computing any feature", () => {
    const cache = join(dir, "fit-cache");
    const run = spawnSync(
      process.execPath,
      [
        "--import",
        "tsx",
        "src/cli.ts",
        "fit",
        "--data",
        join(PACKAGE_ROOT, "scripts", "demo", "alice-fit.json"),
      ].concat(["--out", join(dir, "fit-out"), "--cache", cache, "--rank", "0"]),
      { cwd: PACKAGE_ROOT, env, encoding: "utf8", timeout: 60_000 },
    );
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/^--rank: expected a positive integer, got 0/m);
    expect(existsSync(cache)).toBe(false);
  });
});
