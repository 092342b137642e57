import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { Comparison } from "../data.js";
import { attributes } from "../synth/index.js";

/** The planted preference model of a synth directory: P(a ≻ b) = σ(scale·v_user·(a(a) − a(b))). */
export interface PlantedModel {
  scale: number;
  users: ReadonlyMap<string, Float64Array>;
}

/** The planted model in bayes.json beside `file`, or null when there is none (not synth data). */
export async function readPlantedBeside(file: string): Promise<PlantedModel | null> {
  let text: string;
  try {
    text = await readFile(join(dirname(file), "bayes.json"), "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw error;
  }
  const planted = (
    JSON.parse(text) as { planted?: { scale?: number; users?: { user: string; v: number[] }[] } }
  ).planted;
  if (planted?.scale === undefined || planted.users === undefined) return null;
  return {
    scale: planted.scale,
    users: new Map(planted.users.map((u) => [u.user, Float64Array.from(u.v)])),
  };
}

/** True utility of one response for one user: scale·v·a(response). */
export function trueUtility(model: PlantedModel, user: string, response: string): number {
  const v = model.users.get(user);
  if (v === undefined) throw new TypeError(`user ${user}: not in the planted model`);
  const a = attributes(response);
  let sum = 0;
  for (let j = 0; j < v.length; j++) sum += v[j]! * a[j]!;
  return model.scale * sum;
}

/**
 * Each user's true log-odds that the chosen side wins, in file order (the order groupByUser keeps);
 * null when a row is conversational or its user is not planted.
 */
export function trueLogOdds(
  model: PlantedModel,
  rows: readonly Comparison[],
): Map<string, Float64Array> | null {
  const perUser = new Map<string, number[]>();
  for (const { user, pair } of rows) {
    if (typeof pair.chosen !== "string" || typeof pair.rejected !== "string") return null;
    if (!model.users.has(user)) return null;
    const list = perUser.get(user) ?? [];
    perUser.set(user, list);
    list.push(trueUtility(model, user, pair.chosen) - trueUtility(model, user, pair.rejected));
  }
  return new Map([...perUser].map(([user, list]) => [user, Float64Array.from(list)]));
}
