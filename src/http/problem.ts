import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { hasZodFastifySchemaValidationErrors } from "fastify-type-provider-zod";
import { ProblemError } from "./problem-error.js";
import { problemOf } from "./problem-map.js";
import { validationProblem } from "./validation-issue.js";

const badUrl = () =>
  new ProblemError("INVALID_REQUEST", "The URL path is not validly percent-encoded");

const FASTIFY_CODES: Record<string, (error: FastifyError) => ProblemError> = {
  FST_ERR_CTP_BODY_TOO_LARGE: () =>
    new ProblemError("PAYLOAD_TOO_LARGE", "The request body is too large"),
  FST_ERR_CTP_INVALID_MEDIA_TYPE: (e) => new ProblemError("UNSUPPORTED_MEDIA_TYPE", e.message),
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: (e) => new ProblemError("INVALID_REQUEST", e.message),
  FST_ERR_CTP_EMPTY_JSON_BODY: () =>
    new ProblemError("INVALID_JSON", "The body is empty but the content type is application/json", {
      field: "body",
    }),
  FST_ERR_CTP_INVALID_JSON_BODY: (e) =>
    new ProblemError("INVALID_JSON", e.message, { field: "body" }),
  FST_ERR_BAD_URL: badUrl,
  FST_ERR_MAX_PARAM_LENGTH: () =>
    new ProblemError("INVALID_REQUEST", "A path parameter is longer than this server accepts"),
};

/** What was validated: the problem names a field of it, and follows unions into it. */
function validatedInput(request: FastifyRequest | undefined, context: string | undefined) {
  if (request === undefined) return undefined;
  if (context === "params") return request.params;
  if (context === "querystring") return request.query;
  if (context === "headers") return request.headers;
  return request.body;
}

export function toProblem(error: unknown, request?: FastifyRequest): ProblemError {
  if (hasZodFastifySchemaValidationErrors(error)) {
    const context = error.validationContext;
    return validationProblem(error.validation, context, validatedInput(request, context));
  }
  const fastifyError = error as FastifyError;
  if (typeof fastifyError?.code === "string" && fastifyError.code in FASTIFY_CODES) {
    return FASTIFY_CODES[fastifyError.code]!(fastifyError);
  }
  if (typeof fastifyError?.statusCode === "number" && fastifyError.statusCode === 413) {
    return new ProblemError("PAYLOAD_TOO_LARGE", "The request body is too large");
  }
  if (error instanceof SyntaxError)
    return new ProblemError("INVALID_JSON", error.message, { field: "body" });
  return problemOf(error);
}

export function sendProblem(
  request: FastifyRequest,
  reply: FastifyReply,
  error: unknown,
  options: { instance?: boolean } = {},
): FastifyReply {
  const problem = toProblem(error, request);
  if (problem.code === "NOT_READY" || problem.code === "SHUTTING_DOWN") {
    request.log.debug({ code: problem.code }, problem.message);
  } else if (problem.status === 503) request.log.warn({ code: problem.code }, problem.message);
  else if (problem.status >= 500)
    request.log.error({ err: error, code: problem.code }, "request failed");
  else request.log.debug({ code: problem.code, field: problem.field }, "request rejected");
  const retryAfter = problem.extensions["retry_after_s"];
  if (typeof retryAfter === "number")
    void reply.header("retry-after", String(Math.ceil(retryAfter)));
  return reply
    .code(problem.status)
    .type("application/problem+json")
    .serializer(JSON.stringify)
    .send(problem.toProblem(options.instance === false ? undefined : request.url));
}
