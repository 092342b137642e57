/** The learners every study compares, fitted and scored on a planted population. */
import {
  type InitMode,
  type ShareBModel,
  type SharedModel,
  type ShareMode,
  trainShared,
} from "../../shared/index.js";
import { newUserCurve } from "../new-user-curve.js";
import { modelTheta, scoreGlobal, scoreLocal, scoreMethod } from "../seen-users.js";
import type { PlantedPopulation } from "./planted-population.js";

/**
 * Ridges of every study: the features are N(0, 1) entrywise (not the default backbone's scale of
 * about 0.1, for which the CLI's λ = 0.1 was chosen), so λ = 1 on B and Θ0, 10 on each W_i.
 */
export const STUDY_L2 = { l2: 1, l2User: 10 } as const;

export function fitShared(
  population: PlantedPopulation,
  k: number,
  seed: number,
  share: ShareMode = "B",
  init: InitMode = "global",
): SharedModel {
  return trainShared(population.data, { ...STUDY_L2, rank: k, share, init, seed });
}

/** Mean over the training users of the held-out accuracy of a fitted model. */
export function seenAccuracy(population: PlantedPopulation, model: SharedModel): number {
  return scoreMethod("", population.data, population.test, modelTheta(model), 0).mean;
}

export function globalAccuracy(population: PlantedPopulation, seed: number): number {
  return scoreGlobal(population.data, population.test, { ...STUDY_L2, rank: 1, seed }).mean;
}

export function localAccuracy(population: PlantedPopulation, seed: number): number {
  return scoreLocal(population.data, population.test, { ...STUDY_L2, rank: 1, seed }).mean;
}

/**
 * Unseen users fitted on n of their pairs with B frozen, by the server's own onboarding fitter,
 * and scored on the rest: P-ShareLoRA, local and global, one draw per user.
 */
export function newUserAccuracy(
  population: PlantedPopulation,
  model: ShareBModel,
  n: number,
  seed: number,
): { shared: number; local: number; global: number } {
  const curve = newUserCurve(population.newUsers, model, {
    ns: [n],
    draws: 1,
    seed,
    l2: STUDY_L2.l2,
  });
  const at = (i: number) => curve.methods[i]!.accuracy[0] ?? Number.NaN;
  return { shared: at(0), local: at(1), global: at(2) };
}
