import { describe, expect, it } from "vitest";
import { SeededRandom } from "../../src/math/random.js";
import { replayUsers } from "../../src/training/active/candidate-pool.js";

describe("replay users from synth's candidates.jsonl", () => {
  it("computes each text's base and projection under the head, and every test pair once", async () => {
    const d = 3;
    const m = 2;
    const k = 2;
    const random = new SeededRandom(4);
    const head = {
      d,
      m,
      k,
      theta0: Float32Array.from({ length: d * m }, () => random.gaussian()),
      b0: 0.25,
      B: Float32Array.from({ length: d * k }, () => random.gaussian()),
    };
    const rows = [
      {
        user: "u1",
        split: "pool" as const,
        prompt: "p",
        responses: ["a", "b", "c"],
        utilities: [1, 2, 3],
      },
      {
        user: "u1",
        split: "test" as const,
        prompt: "q",
        responses: ["d", "e", "f", "g"],
        utilities: [0, 1, 0, 2],
      },
      { user: "u2", split: "test" as const, prompt: "q", responses: ["d", "e"], utilities: [5, 4] },
      { user: "u2", split: "pool" as const, prompt: "r", responses: ["h", "i"], utilities: [1, 0] },
      { user: "u2", split: "pool" as const, prompt: "s", responses: ["j", "k"], utilities: [0, 1] },
    ];
    const phiOf = new Map<string, Float32Array>();
    const users = await replayUsers(rows, head, async (texts) =>
      texts.map((t) => {
        const key = `${t.prompt}|${t.response}`;
        if (!phiOf.has(key)) {
          phiOf.set(
            key,
            Float32Array.from({ length: d * m }, () => random.gaussian()),
          );
        }
        return phiOf.get(key)!;
      }),
    );
    expect(users.map((u) => u.user)).toEqual(["u1", "u2"]);
    const [u1, u2] = users;
    expect(Array.from(u1!.pool.offsets)).toEqual([0, 3]);
    expect(Array.from(u2!.pool.offsets)).toEqual([0, 2, 4]);
    expect(Array.from(u2!.utilities)).toEqual([1, 0, 0, 1]);
    expect(u1!.test.n).toBe(6);
    expect(u2!.test.n).toBe(1);
    expect(Array.from(u1!.test.truth)).toEqual([-1, 0, -2, 1, -1, -2]);
    // Text "h" of u2's pool: base = ⟨Θ0, Φ⟩ + b0, P = BᵀΦ (k×m row-major).
    const phi = phiOf.get("r|h")!;
    let base = head.b0;
    const proj = new Array(k * m).fill(0);
    for (let i = 0; i < d; i++) {
      for (let c = 0; c < m; c++) {
        base += head.theta0[i * m + c]! * phi[i * m + c]!;
        for (let a = 0; a < k; a++) proj[a * m + c] += head.B[i * k + a]! * phi[i * m + c]!;
      }
    }
    expect(u2!.pool.base[0]).toBeCloseTo(base, 6);
    Array.from(u2!.pool.proj.subarray(0, k * m)).forEach((x, i) => {
      expect(x).toBeCloseTo(proj[i]!, 6);
    });
  });
});
