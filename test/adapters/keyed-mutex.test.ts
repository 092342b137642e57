import { describe, expect, it } from "vitest";
import { KeyedMutex } from "../../src/adapters/keyed-mutex.js";

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

describe("KeyedMutex", () => {
  it("runs the tasks of one key one at a time, in call order, even when some fail", async () => {
    const mutex = new KeyedMutex();
    const log: string[] = [];
    let running = 0;
    const task =
      (name: string, fail = false) =>
      async () => {
        running++;
        expect(running).toBe(1);
        log.push(`start ${name}`);
        await tick();
        log.push(`end ${name}`);
        running--;
        if (fail) throw new Error(name);
        return name;
      };
    const results = await Promise.allSettled([
      mutex.run("k", task("a")),
      mutex.run("k", task("b", true)),
      mutex.run("k", task("c")),
    ]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect(log).toEqual(["start a", "end a", "start b", "end b", "start c", "end c"]);
  });

  it("lets different keys run at the same time", async () => {
    const mutex = new KeyedMutex();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const blocked = mutex.run("a", () => gate);
    await expect(mutex.run("b", () => "b ran")).resolves.toBe("b ran");
    release();
    await blocked;
  });

  it("forgets a key once its queue is empty", async () => {
    const mutex = new KeyedMutex();
    await Promise.all(Array.from({ length: 1000 }, (_, i) => mutex.run(`user${i % 100}`, tick)));
    await mutex.idle();
    expect(mutex.size).toBe(0);
  });
});
