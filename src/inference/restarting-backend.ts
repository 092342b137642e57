import type { Backend, TextFeatures, TokenSeq } from "./backend.js";
import { InferenceError } from "./errors.js";

/** A backend that can die (its worker thread exits) and says so once. */
export interface MortalBackend extends Backend {
  healthy(): boolean;
  /** Called once, with the reason, when the backend stops being able to run batches. */
  onFailure(listener: (error: Error) => void): void;
  /** Stops it at once, as a crash would. */
  kill(): Promise<void>;
}

export interface RestartingBackendOptions {
  create: () => Promise<MortalBackend>;
  /** Waits before each restart attempt; the last one repeats. Default 100 ms, 1 s, 5 s, 30 s. */
  delaysMs?: readonly number[];
  /** Every failure and every restart attempt, for logs and metrics. */
  onEvent?: (event: RestartEvent) => void;
}

export type RestartEvent =
  | { type: "failed"; error: Error }
  | { type: "restarted"; attempt: number }
  | { type: "restart-failed"; attempt: number; error: unknown };

export class BackendRestartingError extends InferenceError {
  override readonly name = "BackendRestartingError";

  constructor(message: string) {
    super("BACKEND_RESTARTING", message);
  }
}

const DEFAULT_DELAYS_MS = [100, 1000, 5000, 30_000];

/**
 * Replaces a backend that died with a fresh one, in place: the batches it was running fail, and
 * until the new one is up, embed() rejects with NOT_READY and healthy() is false (so /ready
 * answers 503 and a load balancer looks elsewhere); then the service goes on as before.
 */
export class RestartingBackend implements Backend {
  readonly provider: string;
  readonly k: number;
  readonly m: number;
  readonly #create: () => Promise<MortalBackend>;
  readonly #delaysMs: readonly number[];
  readonly #onEvent: RestartingBackendOptions["onEvent"];
  #current: MortalBackend;
  #restarting: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #wake: (() => void) | undefined;
  #disposed = false;
  #restarts = 0;

  private constructor(first: MortalBackend, options: RestartingBackendOptions) {
    this.provider = first.provider;
    this.k = first.k;
    this.m = first.m;
    this.#create = options.create;
    this.#delaysMs = options.delaysMs ?? DEFAULT_DELAYS_MS;
    if (this.#delaysMs.length === 0) throw new TypeError("expected at least one restart delay");
    this.#onEvent = options.onEvent;
    this.#current = first;
    this.#watch(first);
  }

  static async create(options: RestartingBackendOptions): Promise<RestartingBackend> {
    return new RestartingBackend(await options.create(), options);
  }

  /** Backends started after the first one. */
  get restarts(): number {
    return this.#restarts;
  }

  healthy(): boolean {
    return !this.#disposed && this.#current.healthy();
  }

  embed(batch: readonly TokenSeq[]): Promise<TextFeatures[]> {
    if (!this.#disposed && this.#restarting !== undefined) {
      return Promise.reject(new BackendRestartingError("The inference backend is restarting"));
    }
    return this.#current.embed(batch);
  }

  /** Kills the current backend as a crash would, for failure drills: the restart follows. */
  async kill(): Promise<void> {
    await this.#current.kill();
  }

  /** Resolves once no restart is under way (at once if none is). */
  async settled(): Promise<void> {
    await this.#restarting;
  }

  async dispose(): Promise<void> {
    this.#disposed = true;
    clearTimeout(this.#timer);
    this.#wake?.();
    await this.#restarting;
    await this.#current.dispose();
  }

  #watch(backend: MortalBackend): void {
    backend.onFailure((error) => {
      if (this.#disposed || backend !== this.#current) return;
      this.#onEvent?.({ type: "failed", error });
      this.#restarting ??= this.#restart().finally(() => {
        this.#restarting = undefined;
      });
    });
  }

  async #restart(): Promise<void> {
    for (let attempt = 1; !this.#disposed; attempt++) {
      const delay = this.#delaysMs[Math.min(attempt - 1, this.#delaysMs.length - 1)]!;
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
        this.#timer = setTimeout(resolve, delay);
      });
      if (this.#disposed) return;
      try {
        const next = await this.#create();
        if (this.#disposed) {
          await next.dispose();
          return;
        }
        this.#current = next;
        this.#restarts++;
        this.#watch(next);
        this.#onEvent?.({ type: "restarted", attempt });
        return;
      } catch (error) {
        this.#onEvent?.({ type: "restart-failed", attempt, error });
      }
    }
  }
}
