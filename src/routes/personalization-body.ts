import type { Personalization } from "../service/scores.js";

/** Who was scored, and with which adapter. */
export function personalizationOf(p: Personalization) {
  return {
    user: p.user,
    personalized: p.personalized,
    adapter_version: p.adapter?.version ?? null,
    ...(p.staleAdapter ? { stale_adapter: true } : {}),
    ...(p.possiblyStale ? { adapter_possibly_stale: true } : {}),
  };
}

/** The fields every scoring response starts with: the model, who was scored, and with which adapter. */
export function personalizationBody(modelId: string, p: Personalization) {
  return { model: modelId, ...personalizationOf(p) };
}
