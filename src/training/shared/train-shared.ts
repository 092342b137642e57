import type { SharedData } from "./pair-data.js";
import type { SharedModel, TrainSharedOptions } from "./shared-model.js";
import { validateSharedData } from "./split-users.js";
import { resolveTrainSettings, type TrainSettings } from "./train-settings.js";
import { trainShareA } from "./train-share-a.js";
import { trainShareB } from "./train-share-b.js";

/** Each retry multiplies the personal ridge by this. */
export const USER_RIDGE_STEP = 3;

/** Fits P-ShareLoRA (share "B", default) or the share-A ablation; deterministic for a seed. */
export function trainShared(data: SharedData, options: TrainSharedOptions): SharedModel {
  validateSharedData(data);
  const settings = resolveTrainSettings(options, data.d);
  return escalateUserRidge(settings, (s) =>
    s.share === "B" ? trainShareB(data, s) : trainShareA(data, s),
  );
}

/**
 * When no round beats round 0 (the global head, every personal factor at 0) on validation, the
 * personal factors overfit at this ridge: each round fits the training pairs better and the
 * held-out ones worse. Such a fit is run again with the personal ridge USER_RIDGE_STEP times
 * stronger, up to settings.userRidgeRetries times; the report says which ridges were tried.
 */
export function escalateUserRidge(
  settings: TrainSettings,
  train: (settings: TrainSettings) => SharedModel,
): SharedModel {
  const tried: number[] = [];
  let current = settings;
  for (let retry = 0; ; retry++) {
    tried.push(current.l2User);
    const model = train(current);
    const { report } = model;
    const beatGlobal = report.bestRound > 0 || report.validationLogLikelihood === null;
    if (beatGlobal || retry >= settings.userRidgeRetries) {
      report.l2User = current.l2User;
      report.l2UserTried = tried;
      return model;
    }
    current = { ...current, l2User: current.l2User * USER_RIDGE_STEP };
  }
}
