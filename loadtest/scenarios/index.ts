import { compare } from "./compare.js";
import { mixed } from "./mixed.js";
import { overload } from "./overload.js";
import { rank } from "./rank.js";
import { score } from "./score.js";
import { scoreCold } from "./score-cold.js";
import { slowClients } from "./slow-clients.js";
import { soak } from "./soak.js";
import { sweep } from "./sweep.js";
import type { Scenario } from "./types.js";

export const SCENARIOS: ReadonlyMap<string, Scenario> = new Map(
  [score, scoreCold, compare, rank, mixed, overload, slowClients, soak, sweep].map((s) => [
    s.name,
    s,
  ]),
);
