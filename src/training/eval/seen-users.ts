import {
  accuracy,
  composeTheta,
  concatPairs,
  type InitMode,
  type PairBlock,
  pretrainGlobal,
  type SharedData,
  type SharedModel,
  type ShareMode,
  trainLocal,
  trainShared,
} from "../shared/index.js";
import { mean } from "./user-blocks.js";

/** Held-out pairwise accuracy of one method: per user, and the mean over users. */
export interface MethodScore {
  method: string;
  mean: number;
  perUser: Record<string, number>;
  seconds: number;
}

export interface SeenSettings {
  rank: number;
  l2: number;
  /** Ridge on the personal factor (W_i, or B_i for share A). */
  l2User: number;
  seed: number;
}

/** Θ of the user at index u of data.users. */
type ThetaOf = (u: number) => Float64Array;

export function scoreMethod(
  method: string,
  data: SharedData,
  test: ReadonlyMap<string, PairBlock>,
  thetaOf: ThetaOf,
  seconds: number,
): MethodScore {
  const perUser: Record<string, number> = {};
  data.users.forEach((u, index) => {
    const block = test.get(u.user);
    if (block === undefined || block.count === 0) return;
    perUser[u.user] = accuracy(thetaOf(index), block);
  });
  return { method, mean: mean(Object.values(perUser)), perUser, seconds };
}

export function modelTheta(model: SharedModel): ThetaOf {
  const { d, m, k } = model;
  if (model.share === "B") return (u) => composeTheta(model.theta0, model.B, model.W[u]!, d, k, m);
  // Θ_u = Θ0 + B_u·A, with B_u d×k personal and A k×m shared.
  return (u) => composeTheta(model.theta0, model.userB[u]!, model.A, d, k, m);
}

export function trainVariant(
  data: SharedData,
  settings: SeenSettings,
  share: ShareMode,
  init: InitMode,
  rank = settings.rank,
): { model: SharedModel; seconds: number } {
  const { value: model, seconds } = timed(() =>
    trainShared(data, {
      rank,
      share,
      init,
      l2: settings.l2,
      l2User: settings.l2User,
      seed: settings.seed,
    }),
  );
  return { model, seconds };
}

export function scoreGlobal(
  data: SharedData,
  test: ReadonlyMap<string, PairBlock>,
  settings: SeenSettings,
): MethodScore {
  const { value: theta0, seconds } = timed(() => pretrainGlobal(data, { l2: settings.l2 }).theta0);
  return scoreMethod("global", data, test, () => theta0, seconds);
}

/** Each user's own ridge logistic regression on all of their training pairs. */
export function scoreLocal(
  data: SharedData,
  test: ReadonlyMap<string, PairBlock>,
  settings: SeenSettings,
): MethodScore {
  const { value: thetas, seconds } = timed(() =>
    data.users.map((u) => trainLocal(concatPairs([u.train, u.validation]), settings.l2)),
  );
  return scoreMethod("local (ridge)", data, test, (u) => thetas[u]!, seconds);
}

/** What `work` returns, and the wall-clock seconds it took. */
function timed<T>(work: () => T): { value: T; seconds: number } {
  const started = performance.now();
  const value = work();
  return { value, seconds: (performance.now() - started) / 1000 };
}
