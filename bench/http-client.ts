import { Agent, request } from "node:http";

export interface HttpResponse {
  status: number;
  body: unknown;
  headers: Record<string, string | string[] | undefined>;
}

export interface TimedResponse extends HttpResponse {
  /** From sending the request to the last byte of the answer, before its JSON is parsed. */
  ms: number;
  /** Parsing the answer's JSON, on the client. */
  parseMs: number;
  bytes: number;
}

/** A keep-alive JSON client over node:http: lighter than fetch, so the load generator costs less CPU. */
export class JsonClient {
  readonly #base: URL;
  readonly #agent: Agent;

  constructor(baseUrl: string, maxSockets: number) {
    this.#base = new URL(baseUrl);
    this.#agent = new Agent({ keepAlive: true, maxSockets });
  }

  get(path: string): Promise<HttpResponse> {
    return this.#send("GET", path, undefined);
  }

  delete(path: string): Promise<HttpResponse> {
    return this.#send("DELETE", path, undefined);
  }

  post(path: string, body: unknown): Promise<HttpResponse> {
    return this.#send("POST", path, JSON.stringify(body));
  }

  /**
   * POST of a body serialized ahead (so serializing it is not timed), timed to the last byte of
   * the answer; the answer is parsed after that, and the parse timed on its own.
   */
  async postTimed(path: string, payload: string): Promise<TimedResponse> {
    const started = performance.now();
    const raw = await this.#exchange("POST", path, payload);
    const ms = performance.now() - started;
    const t0 = performance.now();
    const response = parsed(raw);
    return { ...response, ms, parseMs: performance.now() - t0, bytes: raw.text.length };
  }

  close(): void {
    this.#agent.destroy();
  }

  async #send(method: string, path: string, payload: string | undefined): Promise<HttpResponse> {
    return parsed(await this.#exchange(method, path, payload));
  }

  #exchange(method: string, path: string, payload: string | undefined): Promise<RawResponse> {
    return new Promise((resolve, reject) => {
      const req = request(
        {
          agent: this.#agent,
          host: this.#base.hostname,
          port: this.#base.port,
          method,
          path,
          headers:
            payload === undefined
              ? {}
              : {
                  "content-type": "application/json",
                  "content-length": Buffer.byteLength(payload),
                },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (chunk: Buffer) => chunks.push(chunk));
          res.on("error", reject);
          res.on("end", () => {
            const text = Buffer.concat(chunks).toString("utf8");
            resolve({ status: res.statusCode ?? 0, text, headers: res.headers });
          });
        },
      );
      req.on("error", reject);
      req.end(payload);
    });
  }
}

interface RawResponse {
  status: number;
  text: string;
  headers: HttpResponse["headers"];
}

function parsed(raw: RawResponse): HttpResponse {
  let body: unknown = raw.text;
  try {
    body = JSON.parse(raw.text);
  } catch {}
  return { status: raw.status, body, headers: raw.headers };
}
