import { sendOnce } from "../baseline.js";
import { postJson } from "../request.js";
import type { Target } from "../target.js";
import type { Check } from "../thresholds.js";

/** One score request for `user`: the seeded adapter must be found and applied (not stale). */
export async function checkPersonalized(target: Target, user: string): Promise<Check> {
  const name = "seeded adapters are applied";
  const { status, body } = await sendOnce(
    target,
    postJson("/v1/score", { user, items: [{ prompt: "probe", response: "probe" }] }),
  );
  let personalized: unknown;
  try {
    personalized = JSON.parse(body).personalized;
  } catch {}
  return personalized === true
    ? { name, status: "pass", detail: `${user}: personalized` }
    : { name, status: "fail", detail: `${user}: status ${status}, ${body.slice(0, 200)}` };
}
