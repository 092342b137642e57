import { describe, expect, it } from "vitest";
import { problemOf } from "../../src/http/problem-map.js";
import type { TextFeatures, TokenSeq } from "../../src/inference/backend.js";
import {
  type MortalBackend,
  type RestartEvent,
  RestartingBackend,
} from "../../src/inference/restarting-backend.js";

/** A backend whose death the test decides; its features say which backend answered. */
class FakeBackend implements MortalBackend {
  readonly provider = "fake";
  readonly k = 1;
  readonly m = 1;
  readonly id: number;
  disposed = false;
  #dead = false;
  #listeners: ((error: Error) => void)[] = [];

  constructor(id: number) {
    this.id = id;
  }

  healthy(): boolean {
    return !this.#dead && !this.disposed;
  }

  onFailure(listener: (error: Error) => void): void {
    this.#listeners.push(listener);
  }

  async kill(): Promise<void> {
    this.#dead = true;
    for (const listener of this.#listeners.splice(0))
      listener(new Error(`backend ${this.id} died`));
  }

  async embed(batch: readonly TokenSeq[]): Promise<TextFeatures[]> {
    if (!this.healthy()) throw new Error(`backend ${this.id} is gone`);
    return batch.map(() => ({ base: this.id, proj: new Float32Array(1) }));
  }

  async dispose(): Promise<void> {
    this.disposed = true;
  }
}

const ONE: TokenSeq[] = [{ ids: [1, 2, 3] }];

function setup(failures = 0) {
  const made: FakeBackend[] = [];
  const events: RestartEvent[] = [];
  let toFail = failures;
  const create = async () => {
    if (made.length > 0 && toFail > 0) {
      toFail--;
      throw new Error("cannot start");
    }
    const backend = new FakeBackend(made.length + 1);
    made.push(backend);
    return backend;
  };
  return { made, events, create };
}

describe("RestartingBackend", () => {
  it("replaces a dead backend in place; meanwhile it is unhealthy and refuses with NOT_READY", async () => {
    const { made, events, create } = setup();
    const backend = await RestartingBackend.create({
      create,
      delaysMs: [20],
      onEvent: (e) => events.push(e),
    });
    expect((await backend.embed(ONE))[0]!.base).toBe(1);
    await backend.kill();
    expect(backend.healthy()).toBe(false);
    const refused = await backend.embed(ONE).catch((error: unknown) => error);
    expect(refused).toMatchObject({ code: "BACKEND_RESTARTING" });
    expect(problemOf(refused)).toMatchObject({ code: "NOT_READY", status: 503 });
    await backend.settled();
    expect(backend.healthy()).toBe(true);
    expect(backend.restarts).toBe(1);
    expect((await backend.embed(ONE))[0]!.base).toBe(2);
    expect(events.map((e) => e.type)).toEqual(["failed", "restarted"]);
    // The dead one saying so again changes nothing.
    await made[0]!.kill();
    expect(backend.healthy()).toBe(true);
    await backend.dispose();
    expect(made[1]!.disposed).toBe(true);
  });

  it("keeps trying with the delays given, the last one repeating", async () => {
    const { events, create } = setup(3);
    const backend = await RestartingBackend.create({
      create,
      delaysMs: [1, 5],
      onEvent: (e) => events.push(e),
    });
    await backend.kill();
    await backend.settled();
    expect(events.map((e) => e.type)).toEqual([
      "failed",
      "restart-failed",
      "restart-failed",
      "restart-failed",
      "restarted",
    ]);
    expect(events.at(-1)).toEqual({ type: "restarted", attempt: 4 });
    expect((await backend.embed(ONE))[0]!.base).toBe(2);
    await backend.dispose();
  });

  it("restarts again when the replacement dies too", async () => {
    const { create } = setup();
    const backend = await RestartingBackend.create({ create, delaysMs: [1] });
    await backend.kill();
    await backend.settled();
    await backend.kill();
    await backend.settled();
    expect(backend.restarts).toBe(2);
    expect((await backend.embed(ONE))[0]!.base).toBe(3);
    await backend.dispose();
  });

  it("stops restarting once disposed", async () => {
    const { made, create } = setup();
    const backend = await RestartingBackend.create({ create, delaysMs: [60_000] });
    await backend.kill();
    await backend.dispose();
    expect(made).toHaveLength(1);
    expect(backend.healthy()).toBe(false);
  });
});
