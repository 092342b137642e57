import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import type { AppState } from "../http/app-state.js";
import { ProblemError } from "../http/problem-error.js";
import { problem, problemResponses } from "../schemas/common.js";
import { adapterImported, userMetadata, userParams } from "../schemas/users.js";

export const userRoutes: FastifyPluginAsyncZod<{ state: AppState }> = async (app, { state }) => {
  app.addContentTypeParser(
    "application/octet-stream",
    { parseAs: "buffer" },
    (_request, body, done) => done(null, body),
  );

  app.get(
    "/v1/users/:user",
    {
      schema: {
        summary: "A user's adapter metadata",
        tags: ["users"],
        params: userParams,
        response: { 200: userMetadata, 404: problem, ...problemResponses },
      },
    },
    async (request) => {
      const runtime = state.require();
      return runtime.users.metadata(request.params.user);
    },
  );

  app.delete(
    "/v1/users/:user",
    {
      schema: {
        summary: "Delete the user's adapter and every pair statistic stored for them (idempotent)",
        tags: ["users"],
        params: userParams,
        response: { 204: z.null().describe("Deleted, or nothing was stored"), ...problemResponses },
      },
    },
    async (request, reply) => {
      const runtime = state.require();
      await runtime.users.delete(request.params.user);
      return reply.code(204).send(null);
    },
  );

  app.get(
    "/v1/users/:user/adapter",
    {
      schema: {
        summary: "Export the user's adapter as a safetensors file",
        tags: ["users"],
        params: userParams,
        produces: ["application/octet-stream"],
        response: {
          200: z.any().describe("safetensors file (application/octet-stream)"),
          404: problem,
          ...problemResponses,
        },
      },
    },
    async (request, reply) => {
      const runtime = state.require();
      const { version, bytes } = await runtime.users.export(request.params.user);
      return reply
        .type("application/octet-stream")
        .header("content-disposition", `attachment; filename="adapter-v${version}.safetensors"`)
        .serializer((payload: unknown) => payload as string)
        .send(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    },
  );

  app.put(
    "/v1/users/:user/adapter",
    {
      schema: {
        summary: "Import a safetensors adapter file as the user's next version",
        tags: ["users"],
        params: userParams,
        consumes: ["application/octet-stream"],
        body: z.any().describe("safetensors adapter file"),
        response: { 200: adapterImported, ...problemResponses },
      },
    },
    async (request) => {
      const runtime = state.require();
      const body = request.body;
      if (!Buffer.isBuffer(body)) {
        throw new ProblemError(
          "UNSUPPORTED_MEDIA_TYPE",
          "Send the adapter as application/octet-stream",
        );
      }
      return runtime.users.import(request.params.user, new Uint8Array(body));
    },
  );
};
