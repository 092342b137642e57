import { randomUUID } from "node:crypto";
import { LRUCache } from "lru-cache";
import type { FitProgress, FitSummary } from "./fit-service.js";

export type JobPhase = "queued" | "features" | "fitting" | "done" | "failed";

export interface Job {
  job_id: string;
  user: string;
  phase: JobPhase;
  progress: { done: number; total: number };
  result?: FitSummary;
  /** Why a failed job failed, as thrown: the web layer says what it means for the client. */
  failure?: unknown;
  created_at: string;
  updated_at: string;
}

/**
 * Background fits live in memory only: a restart forgets them, and a job that had not reached
 * "done" did not change the adapter (the client submits it again). Finished jobs are kept for an
 * hour, at most `maxJobs` of them.
 */
export class JobRegistry {
  readonly #jobs: LRUCache<string, Job>;
  readonly #running = new Set<Promise<unknown>>();

  constructor(options: { maxJobs?: number; ttlMs?: number } = {}) {
    this.#jobs = new LRUCache<string, Job>({
      max: options.maxJobs ?? 10_000,
      ttl: options.ttlMs ?? 3_600_000,
    });
  }

  get(id: string): Job | undefined {
    return this.#jobs.get(id);
  }

  start(
    user: string,
    total: number,
    work: (onProgress: (progress: FitProgress) => void) => Promise<FitSummary>,
  ): Job {
    const now = new Date().toISOString();
    const job: Job = {
      job_id: randomUUID(),
      user,
      phase: "queued",
      progress: { done: 0, total },
      created_at: now,
      updated_at: now,
    };
    this.#jobs.set(job.job_id, job);
    const touch = () => {
      job.updated_at = new Date().toISOString();
    };
    const running = work((progress) => {
      job.phase = progress.phase;
      job.progress = { done: progress.done, total: progress.total };
      touch();
    }).then(
      (result) => {
        job.phase = "done";
        job.progress = { done: job.progress.total, total: job.progress.total };
        job.result = result;
        touch();
      },
      (error) => {
        job.phase = "failed";
        job.failure = error;
        touch();
      },
    );
    this.#running.add(running);
    void running.finally(() => this.#running.delete(running));
    return job;
  }

  /** Resolves when every running job has finished (graceful shutdown). */
  async drain(): Promise<void> {
    while (this.#running.size > 0) await Promise.allSettled([...this.#running]);
  }
}
