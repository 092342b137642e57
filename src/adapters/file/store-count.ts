/**
 * The number of adapter files in a directory store: a start-up scan that runs in the background,
 * then this process's own changes. Writers wait for the scan (ready), so no change is counted
 * twice or missed; readers need not.
 */
export class StoreCount {
  #count = 0;
  #failure: { error: unknown } | undefined;
  readonly #scanned: Promise<void>;

  constructor(scan: () => Promise<number>) {
    this.#scanned = scan().then(
      (files) => {
        this.#count = files;
      },
      (error: unknown) => {
        this.#failure = { error };
      },
    );
  }

  /** Settles (never rejects) when the scan is over. */
  get scanned(): Promise<void> {
    return this.#scanned;
  }

  /** Call only after scanned has settled. */
  changed(delta: 1 | -1): void {
    this.#count += delta;
  }

  /** Waits for the scan; rejects if it failed. */
  async value(): Promise<number> {
    await this.#scanned;
    if (this.#failure !== undefined) throw this.#failure.error;
    return this.#count;
  }
}
