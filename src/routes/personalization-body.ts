import type { Personalization } from "../service/scoring-service.js";

/** The fields every scoring response starts with: who was scored, and with which adapter. */
export function personalizationBody(modelId: string, p: Personalization) {
  return {
    model: modelId,
    user: p.user,
    personalized: p.personalized,
    adapter_version: p.adapter?.version ?? null,
    ...(p.staleAdapter ? { stale_adapter: true } : {}),
    ...(p.possiblyStale ? { adapter_possibly_stale: true } : {}),
  };
}
