import { spawn, spawnSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PACKAGE_ROOT } from "../../src/config.js";

const env = Object.fromEntries(
  Object.entries(process.env).filter(([name]) => !name.startsWith("SHARELORA_")),
);

describe("sharelora serve refuses unsafe or invalid setups before loading anything", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "sharelora-cli-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const serve = (args: string[], extraEnv: Record<string, string> = {}) =>
    spawnSync(
      process.execPath,
      ["--import", "tsx", "src/cli.ts", "serve", "--port", "0", "--adapters", dir, ...args],
      { cwd: PACKAGE_ROOT, env: { ...env, ...extraEnv }, encoding: "utf8", timeout: 60_000 },
    );

  it("exits 2 on a public address without keys, naming the ways out", () => {
    const run = serve(["--host", "0.0.0.0"]);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/Refusing to listen on 0\.0\.0\.0 without authentication/);
    expect(run.stderr).toMatch(/--allow-unauthenticated-public/);
    const off = serve(["--host", "0.0.0.0", "--auth", "off"]);
    expect(off.status).toBe(2);
  });

  it("exits 2 on malformed keys or settings, without echoing the key", () => {
    const secret = "super-secret-value-0123456789";
    const keys = serve([], { SHARELORA_API_KEYS: `name=x,scopes=everything,key=${secret}` });
    expect(keys.status).toBe(2);
    expect(keys.stderr).toMatch(/entry 1 \(x\): scopes must be one or more of score, fit, admin/);
    expect(keys.stderr).not.toContain(secret);
    const port = serve(["--metrics-port", "70000"]);
    expect(port.status).toBe(2);
    expect(port.stderr).toMatch(/--metrics-port/);
  });

  it("takes a bare boolean flag: --allow-unauthenticated-public listens publicly", async () => {
    const child = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        "src/cli.ts",
        "serve",
        "--port",
        "0",
        "--adapters",
        dir,
        "--device",
        "cpu",
        "--host",
        "0.0.0.0",
        "--allow-unauthenticated-public",
      ],
      { cwd: PACKAGE_ROOT, env, stdio: ["ignore", "pipe", "pipe"] },
    );
    const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
    try {
      const ready = await new Promise<Record<string, any>>((resolve, reject) => {
        createInterface({ input: child.stdout }).on("line", (line) => {
          try {
            const record = JSON.parse(line);
            if (record.msg === "ready") resolve(record);
          } catch {}
        });
        void exited.then((code) => reject(new Error(`exited with ${code}`)));
      });
      expect(ready.url).toMatch(/^http:\/\/0\.0\.0\.0:\d+$/);
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  });
});
