import { connect } from "node:net";

export interface RawResponse {
  /** undefined when the server closed the connection without answering. */
  status: number | undefined;
  headers: Record<string, string>;
  body: string;
  /** The server closed the connection before `waitMs` ran out. */
  closed: boolean;
  /** From the first byte written to the server's close (or to the end of the wait). */
  elapsedMs: number;
}

function parse(raw: string): Pick<RawResponse, "status" | "headers" | "body"> {
  const headEnd = raw.indexOf("\r\n\r\n");
  const head = headEnd >= 0 ? raw.slice(0, headEnd) : raw;
  const [statusLine = "", ...lines] = head.split("\r\n");
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1];
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(":");
    if (colon > 0)
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return {
    status: status === undefined ? undefined : Number(status),
    headers,
    body: headEnd >= 0 ? raw.slice(headEnd + 4) : "",
  };
}

/**
 * Writes `chunks` as they are over a new connection to `url`'s host (strings are latin1 bytes,
 * numbers are pauses in ms), then reads until the server closes the connection or `waitMs` passes.
 * For requests no HTTP client would send.
 */
export function rawExchange(
  url: string,
  chunks: (string | Buffer | number)[],
  options: { waitMs?: number } = {},
): Promise<RawResponse> {
  const { hostname, port } = new URL(url);
  const waitMs = options.waitMs ?? 5000;
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) });
    const received: Buffer[] = [];
    let started = 0;
    let settled = false;
    const finish = (closed: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const text = Buffer.concat(received).toString("utf8");
      resolve({ ...parse(text), closed, elapsedMs: performance.now() - started });
    };
    const timer = setTimeout(() => finish(false), waitMs);
    socket.on("data", (chunk) => received.push(chunk));
    socket.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "ECONNRESET" || error.code === "EPIPE") finish(true);
      else if (!settled) {
        settled = true;
        clearTimeout(timer);
        reject(error);
      }
    });
    socket.on("close", () => finish(true));
    socket.once("connect", async () => {
      started = performance.now();
      for (const chunk of chunks) {
        if (settled) return;
        if (typeof chunk === "number") await new Promise((r) => setTimeout(r, chunk));
        else socket.write(typeof chunk === "string" ? Buffer.from(chunk, "latin1") : chunk);
      }
    });
  });
}

/** A request line and headers, CRLF-terminated, followed by `body`. */
export function rawRequest(
  method: string,
  path: string,
  headers: Record<string, string>,
  body = "",
): string {
  const lines = Object.entries({ host: "127.0.0.1", ...headers }).map(([k, v]) => `${k}: ${v}`);
  return `${method} ${path} HTTP/1.1\r\n${lines.join("\r\n")}\r\n\r\n${body}`;
}
