import type { SharedData } from "./pair-data.js";
import type { SharedModel, TrainSharedOptions } from "./shared-model.js";
import { validateSharedData } from "./split-users.js";
import { resolveTrainSettings } from "./train-settings.js";
import { trainShareA } from "./train-share-a.js";
import { trainShareB } from "./train-share-b.js";

/** Fits P-ShareLoRA (share "B", default) or the share-A ablation; deterministic for a seed. */
export function trainShared(data: SharedData, options: TrainSharedOptions): SharedModel {
  validateSharedData(data);
  const settings = resolveTrainSettings(options, data.d);
  return settings.share === "B" ? trainShareB(data, settings) : trainShareA(data, settings);
}
