import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { readdir } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { isAdapterFileName } from "../../src/adapters/file/paths.js";
import { FileAdapterStore } from "../../src/adapters/file/store.js";
import { SHAPE, seedOf, WRITER_USERS } from "./fixtures/adapter-data.js";
import { useTempDirs } from "./fixtures/temp-dirs.js";

const WRITER = fileURLToPath(new URL("./fixtures/writer.ts", import.meta.url));
const LINEAGES = 3;
const KILLS_PER_LINEAGE = 17;

const tempDir = useTempDirs();

interface LineageReport {
  kills: number;
  killsMidWrite: number;
  versions: Map<string, number>;
}

/** Starts the writer and resolves once it has acknowledged its first write. */
async function startWriter(root: string, acked: Map<string, number>): Promise<ChildProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", WRITER, root], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr!.on("data", (chunk) => {
    stderr += chunk;
  });
  let pending = "";
  const firstAck = new Promise<void>((resolve, reject) => {
    child.stdout!.on("data", (chunk: Buffer) => {
      const lines = (pending + chunk.toString()).split("\n");
      pending = lines.pop()!;
      for (const line of lines) {
        const [user, version] = line.split(" ");
        acked.set(user!, Math.max(acked.get(user!) ?? 0, Number(version)));
      }
      if (lines.length > 0) resolve();
    });
    child.once("exit", (code, signal) => {
      reject(new Error(`writer exited early (${code ?? signal}): ${stderr}`));
    });
  });
  await firstAck;
  return child;
}

async function filesOf(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => e.name);
}

/** Kills a writer at random moments, checking the store after every kill. */
async function runLineage(seed: number): Promise<LineageReport> {
  const root = await tempDir();
  const acked = new Map<string, number>();
  const versions = new Map<string, number>();
  const report: LineageReport = { kills: 0, killsMidWrite: 0, versions };
  let state = seed;
  const random = () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31;
  };
  for (let i = 0; i < KILLS_PER_LINEAGE; i++) {
    const child = await startWriter(root, acked);
    await new Promise((resolve) => setTimeout(resolve, random() * 30));
    const closed = once(child, "close");
    child.kill("SIGKILL");
    const [, signal] = await closed;
    expect(signal).toBe("SIGKILL");
    report.kills++;

    if ((await filesOf(root)).some((name) => !isAdapterFileName(name))) report.killsMidWrite++;
    const store = await FileAdapterStore.open({ root, shape: SHAPE });
    await store.scanned;
    expect((await filesOf(root)).every(isAdapterFileName), "temp files removed at open").toBe(true);
    for (const user of WRITER_USERS) {
      const adapter = await store.get(user);
      const version = adapter?.version ?? 0;
      expect(version, `${user} never goes backwards`).toBeGreaterThanOrEqual(
        versions.get(user) ?? 0,
      );
      expect(version, `${user} keeps acknowledged writes`).toBeGreaterThanOrEqual(
        acked.get(user) ?? 0,
      );
      if (adapter !== undefined) expect(seedOf(adapter), `${user} is whole`).toBe(version);
      versions.set(user, version);
    }
    expect(await store.count()).toBe([...versions.values()].filter((v) => v > 0).length);
    await store.close();
  }
  return report;
}

describe("FileAdapterStore under kill -9", () => {
  it("never shows a partial file or an older version after a writer is killed", async () => {
    const reports = await Promise.all(
      Array.from({ length: LINEAGES }, (_, i) => runLineage(7919 * (i + 1))),
    );
    const kills = reports.reduce((sum, r) => sum + r.kills, 0);
    const midWrite = reports.reduce((sum, r) => sum + r.killsMidWrite, 0);
    expect(kills).toBeGreaterThanOrEqual(50);
    // The kills must have landed while writes were under way, or the test proved nothing.
    expect(midWrite).toBeGreaterThan(0);
    for (const report of reports) {
      for (const user of WRITER_USERS) {
        expect(report.versions.get(user)!).toBeGreaterThanOrEqual(KILLS_PER_LINEAGE);
      }
    }
  }, 120_000);
});
