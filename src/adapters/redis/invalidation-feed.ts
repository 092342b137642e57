import type { Redis } from "ioredis";
import { decodeInvalidation } from "./invalidation-message.js";

const RESUBSCRIBE_RETRY_MS = 250;

/**
 * Other processes' invalidations, from a connection of its own in subscriber mode. The feed knows
 * whether it is subscribed: messages published while it was not are lost, so each time it
 * subscribes again after an outage it calls `onResubscribed`.
 */
export class InvalidationFeed {
  readonly #connection: Redis;
  readonly #channel: string;
  readonly #origin: string;
  readonly #onResubscribed: () => void;
  readonly #listeners = new Set<(user: string) => void>();
  #subscribed = false;
  #closed = false;

  constructor(options: {
    connection: Redis;
    channel: string;
    /** Messages from this origin (the store's own writes) are not delivered. */
    origin: string;
    onResubscribed: () => void;
  }) {
    this.#connection = options.connection;
    this.#channel = options.channel;
    this.#origin = options.origin;
    this.#onResubscribed = options.onResubscribed;
    this.#connection.on("message", (channel: string, message: string) => {
      if (channel === this.#channel) this.#deliver(message);
    });
    this.#connection.on("close", () => {
      this.#subscribed = false;
    });
  }

  /** Connects and subscribes; rejects when Redis cannot be reached. */
  async start(): Promise<void> {
    await this.#connection.connect();
    await this.#subscribe();
    this.#connection.on("ready", () => this.#resubscribe());
  }

  get subscribed(): boolean {
    return this.#subscribed && this.#connection.status === "ready";
  }

  listen(listener: (user: string) => void): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  close(): void {
    this.#closed = true;
    this.#listeners.clear();
    this.#subscribed = false;
    this.#connection.disconnect();
  }

  #resubscribe(): void {
    this.#subscribe().then(
      () => this.#onResubscribed(),
      () => {
        if (this.#closed || this.#connection.status !== "ready") return; // the next "ready" retries
        setTimeout(() => this.#resubscribe(), RESUBSCRIBE_RETRY_MS).unref();
      },
    );
  }

  async #subscribe(): Promise<void> {
    await this.#connection.subscribe(this.#channel);
    this.#subscribed = true;
  }

  #deliver(message: string): void {
    const invalidation = decodeInvalidation(message);
    if (invalidation === undefined || invalidation.origin === this.#origin) return;
    for (const listener of this.#listeners) listener(invalidation.user);
  }
}
