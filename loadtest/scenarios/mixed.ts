import { sendOnce } from "../baseline.js";
import { postJson, type RequestSpec } from "../request.js";
import type { Target } from "../target.js";
import type { Check } from "../thresholds.js";
import { seedAdapters } from "./seed-adapters.js";
import { type PreparedSource, singlePhaseScenario } from "./single-phase.js";
import { TextSource } from "./texts.js";
import { roundRobin, userIds } from "./users.js";

const USERS = userIds("mixed", 8);
export const FIT_FRACTION = 0.05;
const PAIRS_PER_FIT = 4;

function fitRequest(user: string, texts: TextSource): RequestSpec {
  const pairs = Array.from({ length: PAIRS_PER_FIT }, () => ({
    prompt: texts.prompt(),
    chosen: texts.fresh(),
    rejected: texts.fresh(),
  }));
  return postJson(`/v1/users/${user}/fit`, { pairs, mode: "append" });
}

/** A 404 with code NOT_FOUND means no such route: the server predates the fit endpoint. */
async function probeFit(target: Target, texts: TextSource): Promise<Check> {
  const name = "fit endpoint answers";
  const { status, body } = await sendOnce(target, fitRequest("mixed-probe", texts));
  let code: unknown;
  try {
    code = JSON.parse(body).code;
  } catch {}
  if (status >= 200 && status < 300)
    return { name, status: "pass", detail: `probe fit: ${status}` };
  const detail =
    status === 404 && code === "NOT_FOUND"
      ? "POST /v1/users/:user/fit is not served (404 NOT_FOUND): the load ran score requests only"
      : `probe fit answered ${status}: ${body.slice(0, 200)}`;
  return { name, status: "fail", detail };
}

export const mixed = singlePhaseScenario({
  name: "mixed",
  description:
    `${100 - FIT_FRACTION * 100}% POST /v1/score (new responses) and ${FIT_FRACTION * 100}% ` +
    `POST /v1/users/:user/fit (append ${PAIRS_PER_FIT} new pairs) over 8 users, chosen by a seeded stream.`,
  connections: 8,
  policy: { allow429: false },
  prepare: (target, seed) => seedAdapters(target, USERS, seed),
  async source(context) {
    const texts = new TextSource(context.seed);
    const probe = await probeFit(context.target, texts);
    const fitFraction = probe.status === "pass" ? FIT_FRACTION : 0;
    const user = roundRobin(USERS);
    const built = { score: 0, fit: 0 };
    const nextScore = () =>
      postJson("/v1/score", {
        user: user(),
        items: [{ prompt: texts.prompt(), response: texts.fresh() }],
      });
    const nextFit = () => fitRequest(user(), texts);
    const baselineKinds: NonNullable<PreparedSource["baselineKinds"]> = [
      { name: "score", source: nextScore },
    ];
    if (fitFraction > 0) {
      baselineKinds.push({ name: "fit", source: nextFit, options: { warmup: 1, samples: 3 } });
    }
    return {
      checks: [probe],
      baselineKinds,
      source: () => {
        const kind = texts.unit() < fitFraction ? "fit" : "score";
        built[kind]++;
        return kind === "fit" ? nextFit() : nextScore();
      },
      afterRun: async () => ({
        notes: [`load requests built: ${built.score} score, ${built.fit} fit`],
      }),
    };
  },
});
