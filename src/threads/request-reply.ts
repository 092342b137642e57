interface Waiting<T> {
  resolve: (reply: T) => void;
  reject: (error: unknown) => void;
}

/**
 * Requests to a worker thread that await their replies: each message carries an id, the reply
 * carries it back and settles that request alone. A worker that dies answers nothing more, so
 * its owner rejects whatever still waits (rejectAll) when it sees the worker's error or exit.
 */
export class RequestReply<T> {
  readonly #waiting = new Map<number, Waiting<T>>();
  #nextId = 1;

  /** Requests sent and not answered yet. */
  get size(): number {
    return this.#waiting.size;
  }

  /**
   * Sends a request: `post` sends its message with the id. Settles with the reply; rejects with
   * what `post` throws, and then the request is not waited for.
   */
  request(post: (id: number) => void): Promise<T> {
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject });
      try {
        post(id);
      } catch (error) {
        this.#waiting.delete(id);
        reject(error);
      }
    });
  }

  /** Settles the request `id` with its reply; false when none waits on that id. */
  resolve(id: number, reply: T): boolean {
    const waiting = this.#take(id);
    waiting?.resolve(reply);
    return waiting !== undefined;
  }

  /** Rejects the request `id` (its worker said it failed); false when none waits on that id. */
  reject(id: number, error: unknown): boolean {
    const waiting = this.#take(id);
    waiting?.reject(error);
    return waiting !== undefined;
  }

  /** Rejects every request still waiting: the worker that was to answer them is gone. */
  rejectAll(error: unknown): void {
    const all = [...this.#waiting.values()];
    this.#waiting.clear();
    for (const waiting of all) waiting.reject(error);
  }

  #take(id: number): Waiting<T> | undefined {
    const waiting = this.#waiting.get(id);
    this.#waiting.delete(id);
    return waiting;
  }
}
