import { maxHeaderSize, type Server, STATUS_CODES } from "node:http";
import type { Socket } from "node:net";
import type { FastifyInstance } from "fastify";
import { type ProblemCode, ProblemError } from "./problem-error.js";

/** Node's codes for what it could not parse or did not receive in time; anything else is malformed. */
const CLIENT_ERRORS: Readonly<Record<string, [ProblemCode, string]>> = {
  ERR_HTTP_REQUEST_TIMEOUT: ["REQUEST_TIMEOUT", "The request was not received in time"],
  HPE_INVALID_EOF_STATE: ["MALFORMED_HTTP", "The connection ended before the request was complete"],
  HPE_HEADER_OVERFLOW: [
    "HEADERS_TOO_LARGE",
    `The request line and headers are larger than ${maxHeaderSize} bytes`,
  ],
};
const MALFORMED: [ProblemCode, string] = ["MALFORMED_HTTP", "The request is not valid HTTP/1.1"];

/** The whole response, as bytes: there is no request or response object to send it through. */
function clientErrorResponse(code: string | undefined): string {
  const [problemCode, detail] = CLIENT_ERRORS[code ?? ""] ?? MALFORMED;
  const problem = new ProblemError(problemCode, detail);
  const body = JSON.stringify(problem.toProblem());
  return [
    `HTTP/1.1 ${problem.status} ${STATUS_CODES[problem.status]}`,
    "Content-Type: application/problem+json",
    `Content-Length: ${Buffer.byteLength(body)}`,
    "Connection: close",
    "",
    body,
  ].join("\r\n");
}

/**
 * Fastify's clientErrorHandler: what Node could not parse as HTTP, and requests whose headers or
 * body missed Node's timeouts, get a problem of ours that echoes nothing of the request, and the
 * connection is closed.
 */
export function answerClientError(
  this: FastifyInstance,
  error: NodeJS.ErrnoException,
  socket: Socket,
): void {
  if (error.code === "ECONNRESET" || socket.destroyed) return;
  this.log.debug({ code: error.code }, "malformed or incomplete request");
  // As Node checks before answering itself: once a response has begun on this connection, another
  // one written after it would corrupt it.
  const current = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (socket.writable && current?.headersSent !== true) {
    socket.write(clientErrorResponse(error.code));
  }
  socket.destroy(error);
}

/**
 * The two answers Node gives by itself to requests it did parse: a 417 for an Expect header other
 * than 100-continue, and a 400 for an HTTP/1.1 request without Host (the server options turn
 * Node's own check off so that this one answers instead).
 */
export function registerProtocolChecks(app: FastifyInstance): void {
  (app.server as Server).on("checkExpectation", (_request, response) => {
    const problem = new ProblemError(
      "EXPECTATION_FAILED",
      "Only Expect: 100-continue is supported",
    );
    const body = JSON.stringify(problem.toProblem());
    response
      .writeHead(problem.status, {
        "content-type": "application/problem+json",
        "content-length": Buffer.byteLength(body),
        connection: "close",
      })
      .end(body);
  });
  app.addHook("onRequest", async (request) => {
    if (request.raw.httpVersion === "1.1" && request.headers.host === undefined) {
      throw new ProblemError("MALFORMED_HTTP", "An HTTP/1.1 request must carry a Host header");
    }
  });
}
