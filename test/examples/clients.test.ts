import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ShareloraClient, ShareloraError } from "../../examples/typescript/client.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

/**
 * Every client under examples/ against the real server and the real default model: each must get
 * the rewards /v1/score gives for the same user and texts. The Python examples run with Debian's
 * interpreter (never a pyenv one on the PATH), which needs python3-requests and python3-aiohttp;
 * .ci/run installs them, so CI runs these rather than skipping them.
 */

const PYTHON = "/usr/bin/python3";
const ROOT = join(import.meta.dirname, "..", "..");
const EXAMPLES = join(ROOT, "examples");

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** Why the Python examples needing `modules` cannot run here, or undefined when they can. */
function pythonMissing(modules: readonly string[]): string | undefined {
  if (!existsSync(PYTHON)) return `${PYTHON} is not installed (apt-get install python3)`;
  const probe = spawnSync(PYTHON, ["-c", `import ${modules.join(", ")}`], {
    encoding: "utf8",
    env: pythonEnv(""),
  });
  if (probe.status === 0) return undefined;
  const packages = modules.map((m) => `python3-${m}`).join(" ");
  const error = probe.stderr.trim().split("\n").at(-1) ?? "";
  return `${PYTHON} cannot import ${modules.join(", ")} (apt-get install ${packages}): ${error}`;
}

function pythonEnv(url: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    SHARELORA_URL: url,
    PYTHONDONTWRITEBYTECODE: "1",
    PYTHONIOENCODING: "utf-8",
  };
}

/** Runs an example script with JSON on stdin and returns the JSON it prints. */
function runPython(
  script: string,
  input: unknown,
  options: { args?: string[]; url: string },
): Promise<any> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, ["-B", join(EXAMPLES, script), ...(options.args ?? [])], {
      env: pythonEnv(options.url),
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), 50_000);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (code !== 0) {
        reject(new Error(`${script} exited with ${code ?? signal}:\n${stderr}\n${stdout}`));
        return;
      }
      try {
        resolve(JSON.parse(stdout));
      } catch {
        reject(new Error(`${script} printed no JSON:\n${stdout}\n${stderr}`));
      }
    });
    child.stdin.end(JSON.stringify(input));
  });
}

/** Equal within 1e-9 relative or 1e-6 absolute. */
function expectRewards(actual: readonly number[], expected: readonly number[], what: string) {
  expect(actual, what).toHaveLength(expected.length);
  actual.forEach((a, i) => {
    const e = expected[i]!;
    const diff = Math.abs(a - e);
    if (!(diff <= 1e-6 || diff <= 1e-9 * Math.abs(e))) {
      expect.fail(`${what}[${i}]: ${a} is not ${e}`);
    }
  });
}

const PAIRS = [
  {
    prompt: "How do I sort a list?",
    response:
      "## How to sort a list\n- Step 1: take the input\n- Step 2: call sorted()\n```py\nresult = sorted(xs)\n```",
  },
  { prompt: "How do I sort a list?", response: "Great question! Just sort it and you're done!!" },
  { prompt: "Explain DNS in one line.", response: "It maps host names to IP addresses." },
];
/** A rendered query whose prompt field is not its prefix: scored whole, as a text. */
const UNMATCHED = {
  prompt: "<|user|>\nHow do I read a file?",
  query: "How do I read a file? Open it and read it.",
};

describe("the example clients against the real server", () => {
  let t: TestServer;
  let model: string;
  /** /v1/score's rewards of the pairs: for alice, then globally. */
  let pairRewards: { alice: number[]; global: number[] };

  const score = async (user: string | undefined, items: unknown[]): Promise<number[]> => {
    const res = await t.post("/v1/score", user === undefined ? { items } : { user, items });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    if (user !== undefined) expect(res.body.personalized).toBe(true);
    return res.body.rewards;
  };

  beforeAll(async () => {
    t = await startTestServer();
    const fit = JSON.parse(await readFile(join(ROOT, "scripts", "demo", "alice-fit.json"), "utf8"));
    const onboarded = await t.post("/v1/users/alice/fit", fit);
    expect(onboarded.status, JSON.stringify(onboarded.body)).toBe(200);
    expect(onboarded.body.version).toBeGreaterThanOrEqual(1);
    const items = PAIRS.map(({ prompt, response }) => ({ prompt, response }));
    pairRewards = { alice: await score("alice", items), global: await score(undefined, items) };
    // The comparison below only means something if alice's adapter changes her rewards.
    expect(pairRewards.alice).not.toEqual(pairRewards.global);
    model = (await t.post("/v1/score", { items: [{ text: "x" }] })).body.model;
  });

  afterAll(async () => {
    await t?.close();
  });

  it("openrlhf/post_like_openrlhf.py: one /get_reward POST per sample, the user from its label", async (ctx) => {
    const missing = pythonMissing(["aiohttp"]);
    if (missing) ctx.skip(missing);
    const labels: { label: unknown; user: "alice" | "global" }[] = [
      { label: "alice", user: "alice" },
      { label: { user: "alice", answer: "42" }, user: "alice" },
      { label: "", user: "global" }, // OpenRLHF's label without --label_key
    ];
    const samples = labels.flatMap(({ label }) =>
      PAIRS.map(({ prompt, response }) => ({ prompt, response, label })),
    );
    samples.push({ ...UNMATCHED, label: "alice" } as any, { ...UNMATCHED, label: "" } as any);
    const results: any[] = await runPython("openrlhf/post_like_openrlhf.py", samples, {
      url: t.url,
    });
    expect(results).toHaveLength(samples.length);

    const expected = [
      ...labels.flatMap(({ user }) => pairRewards[user]),
      ...(await score("alice", [{ text: UNMATCHED.query }])),
      ...(await score(undefined, [{ text: UNMATCHED.query }])),
    ];
    expectRewards(
      results.map((r) => r.reward),
      expected,
      "OpenRLHF rewards",
    );
    expectRewards(
      results.map((r) => r.score),
      expected.map(sigmoid),
      "OpenRLHF scores",
    );
    const personalized = [
      ...labels.flatMap(({ user }) => PAIRS.map(() => user)),
      "alice",
      "global",
    ];
    expect(results.map((r) => r.extra_logs.personalized)).toEqual(
      personalized.map((u) => (u === "alice" ? 1 : 0)),
    );
    expect(results.map((r) => r.extra_logs.adapter_version)).toEqual(
      personalized.map((u) => (u === "alice" ? 1 : 0)),
    );
    expect(results.map((r) => r.extra_logs.prompt_matched)).toEqual([
      ...samples.slice(0, -2).map(() => 1),
      0,
      0,
    ]);
    // What went over the wire: one-sample lists, as OpenRLHF's executor receives them.
    for (const r of results) {
      expect(r.answer.rewards).toHaveLength(1);
      expect(r.answer.scores).toHaveLength(1);
    }
  });

  it("openrlhf/post_like_openrlhf.py reads the example prompt file like OpenRLHF's --label_key", async (ctx) => {
    const missing = pythonMissing(["aiohttp"]);
    if (missing) ctx.skip(missing);
    const response = " Use sorted(xs).";
    const args = [
      "--prompt_data",
      join(EXAMPLES, "openrlhf", "prompts.jsonl"),
      "--input_key",
      "prompt",
      "--label_key",
      "user",
      "--response",
      response,
    ];
    const results: any[] = await runPython("openrlhf/post_like_openrlhf.py", null, {
      args,
      url: t.url,
    });
    const rows = (await readFile(join(EXAMPLES, "openrlhf", "prompts.jsonl"), "utf8"))
      .split("\n")
      .filter((line) => line.trim() !== "")
      .map((line) => JSON.parse(line) as { prompt: string; user: string });
    const expected: number[] = [];
    for (const row of rows) {
      const user = row.user === "" ? undefined : row.user;
      const res = await t.post("/v1/score", {
        items: [{ prompt: row.prompt, response, ...(user === undefined ? {} : { user }) }],
      });
      expected.push(res.body.rewards[0]);
    }
    expectRewards(
      results.map((r) => r.reward),
      expected,
      "prompts.jsonl rewards",
    );
    expect(results.map((r) => r.extra_logs.personalized)).toEqual(
      rows.map((row) => (row.user === "alice" ? 1 : 0)), // bob has no adapter on this server
    );
  });

  it("verl/compute_score.py: the user from extra_info, the prompt from extra_info when given", async (ctx) => {
    const missing = pythonMissing(["requests"]);
    if (missing) ctx.skip(missing);
    const call = (extra_info: unknown, solution_str: string, kwargs?: object) => ({
      data_source: "sharelora-demo",
      solution_str,
      ground_truth: "",
      extra_info,
      ...(kwargs === undefined ? {} : { kwargs }),
    });
    const calls = [
      ...PAIRS.map((p) => call({ user: "alice", prompt: p.prompt, index: 0 }, p.response)),
      ...PAIRS.map((p) => call({ user: null, prompt: p.prompt }, p.response)),
      ...PAIRS.map((p) => call({ prompt: p.prompt, user: "" }, p.response)),
      // Without a prompt the response is scored on its own; without extra_info, globally.
      call({ user: "alice" }, PAIRS[0]!.response),
      call(null, PAIRS[0]!.response),
      // The keyword arguments verl's reward loop adds are accepted and ignored.
      call({ user: "alice", prompt: PAIRS[1]!.prompt }, PAIRS[1]!.response, {
        reward_router_address: null,
        reward_model_tokenizer: null,
      }),
    ];
    const rewards: number[] = await runPython("verl/compute_score.py", calls, { url: t.url });
    expectRewards(
      rewards,
      [
        ...pairRewards.alice,
        ...pairRewards.global,
        ...pairRewards.global,
        ...(await score("alice", [{ text: PAIRS[0]!.response }])),
        ...(await score(undefined, [{ text: PAIRS[0]!.response }])),
        pairRewards.alice[1]!,
      ],
      "verl rewards",
    );

    // custom_reward_function.reward_kwargs.base_url wins over SHARELORA_URL (here a closed port).
    const viaKwargs: number[] = await runPython(
      "verl/compute_score.py",
      PAIRS.map((p) => call({ user: "alice", prompt: p.prompt }, p.response, { base_url: t.url })),
      { url: "http://127.0.0.1:9" },
    );
    expectRewards(viaKwargs, pairRewards.alice, "verl rewards via reward_kwargs.base_url");
  });

  it("verl/compute_score.py fails loudly on a user id the server cannot take", async (ctx) => {
    const missing = pythonMissing(["requests"]);
    if (missing) ctx.skip(missing);
    const bad = [
      {
        data_source: "d",
        solution_str: "x",
        ground_truth: "",
        extra_info: { user: "not a user id" },
      },
    ];
    await expect(runPython("verl/compute_score.py", bad, { url: t.url })).rejects.toThrow(
      /400.*INVALID_USER_ID/s,
    );
  });

  for (const mode of ["async", "sync"] as const) {
    it(`trl/reward_func.py (${mode}): a batch per /v1/score call, standard and conversational`, async (ctx) => {
      const missing = pythonMissing(["aiohttp"]);
      if (missing) ctx.skip(missing);
      const users = ["alice", null, "alice", "", null, "alice"];
      const rows = users.map((user, i) => ({ ...PAIRS[i % PAIRS.length]!, user }));
      const standard = {
        prompts: rows.map((r) => r.prompt),
        completions: rows.map((r) => r.response),
        user: rows.map((r) => r.user),
        completion_ids: rows.map(() => [1, 2, 3]),
        trainer_state: null,
      };
      const conversational = {
        prompts: rows.map((r) => [
          { role: "system", content: "Be brief." },
          { role: "user", content: r.prompt },
        ]),
        completions: rows.map((r) => [{ role: "assistant", content: r.response }]),
        user: rows.map((r) => r.user),
      };
      // A dataset without a user column: every completion gets the global reward.
      const noUsers = { prompts: [PAIRS[2]!.prompt], completions: [PAIRS[2]!.response] };
      const results: number[][] = await runPython(
        "trl/reward_func.py",
        [standard, conversational, noUsers],
        { url: t.url, args: mode === "sync" ? ["--sync"] : [] },
      );
      expect(results).toHaveLength(3);

      const expectedStandard = rows.map((r, i) =>
        r.user === "alice" ? pairRewards.alice[i % 3]! : pairRewards.global[i % 3]!,
      );
      expectRewards(results[0]!, expectedStandard, "TRL standard rewards");

      const messages = conversational.prompts.map((p, i) => ({
        messages: [...p, ...conversational.completions[i]!],
      }));
      const alice = await score("alice", messages);
      const global = await score(undefined, messages);
      expectRewards(
        results[1]!,
        rows.map((r, i) => (r.user === "alice" ? alice[i]! : global[i]!)),
        "TRL conversational rewards",
      );
      expectRewards(results[2]!, [pairRewards.global[2]!], "TRL rewards without a user column");
    });
  }

  it("typescript/client.ts: score, getReward and classify", async () => {
    const client = new ShareloraClient(t.url);
    const items = PAIRS.map(({ prompt, response }) => ({ prompt, response }));

    const scored = await client.score({ user: "alice", items });
    expect(scored.personalized).toBe(true);
    expectRewards(scored.rewards, pairRewards.alice, "client.score");
    const matrix = await client.score({ users: ["alice", "nobody"], items });
    expectRewards(matrix.rewards[0]!, pairRewards.alice, "client.score users[0]");
    expectRewards(matrix.rewards[1]!, pairRewards.global, "client.score users[1]");

    const query = PAIRS.map((p) => p.prompt + p.response);
    const prompts = PAIRS.map((p) => p.prompt);
    const labelled = await client.getReward({ query, prompts, labels: PAIRS.map(() => "alice") });
    expectRewards(labelled.rewards, pairRewards.alice, "client.getReward");
    expectRewards(labelled.scores, pairRewards.alice.map(sigmoid), "client.getReward scores");
    expect(labelled.extra_logs.personalized).toEqual([1, 1, 1]);
    const byHeader = await client.getReward({ query, prompts }, { user: "alice" });
    expectRewards(byHeader.rewards, pairRewards.alice, "client.getReward with a user header");
    const global = await client.getReward({ query, prompts });
    expectRewards(global.rewards, pairRewards.global, "client.getReward for nobody");

    const input = PAIRS.map((p) => p.response);
    const textRewards = {
      alice: await score(
        "alice",
        input.map((text) => ({ text })),
      ),
      global: await score(
        undefined,
        input.map((text) => ({ text })),
      ),
    };
    const raw = await client.classify({ model: `${model}:alice`, input, use_activation: false });
    expect(raw.object).toBe("list");
    expect(raw.model).toBe(`${model}:alice`);
    expectRewards(
      raw.data.map((d) => d.probs.at(-1)!),
      textRewards.alice,
      "client.classify raw",
    );
    const activated = await client.classify({ model, input }, { path: "/v1/classify" });
    expectRewards(
      activated.data.map((d) => d.probs.at(-1)!),
      textRewards.global.map(sigmoid),
      "client.classify σ",
    );
    const one = await client.classify({ input: input[0]!, use_activation: false });
    expectRewards(one.data[0]!.probs, [textRewards.global[0]!], "client.classify one text");

    const refused = await client.classify({ model: "no-such-model", input }).catch((e) => e);
    expect(refused).toBeInstanceOf(ShareloraError);
    expect(refused.status).toBe(404);
    expect(refused.problem?.code).toBe("MODEL_NOT_FOUND");
  });
});
