import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { encodeAdapter } from "../adapters/format.js";
import { importAdapterFile } from "../adapters/import.js";
import type { Adapter } from "../adapters/types.js";
import type { AppState } from "../app.js";
import { ProblemError, toProblemError } from "../errors.js";
import { problem, problemResponses } from "../schemas/common.js";
import { adapterImported, userMetadata, userParams } from "../schemas/users.js";

function metadata(adapter: Adapter, headHash: string) {
  return {
    user: adapter.user,
    version: adapter.version,
    head_hash: adapter.headHash,
    stale: adapter.headHash !== headHash,
    created_at: adapter.createdAt,
    updated_at: adapter.updatedAt,
    k: adapter.k,
    m: adapter.m,
    n_pairs: adapter.nPairs,
    stored_pairs: adapter.pairs ? adapter.pairs.o.length : 0,
    has_posterior: adapter.posterior !== undefined,
    metrics: adapter.metrics,
  };
}

async function lookup(promise: Promise<Adapter | undefined>): Promise<Adapter | undefined> {
  try {
    return await promise;
  } catch (error) {
    throw toProblemError(error);
  }
}

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
      const adapter = await lookup(runtime.adapters.get(request.params.user));
      if (!adapter) throw new ProblemError("USER_NOT_FOUND", "No adapter is stored for this user");
      return metadata(adapter, runtime.head.hash);
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
      try {
        await runtime.adapters.delete(request.params.user);
      } catch (error) {
        throw toProblemError(error);
      }
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
      const adapter = await lookup(runtime.adapters.get(request.params.user));
      if (!adapter) throw new ProblemError("USER_NOT_FOUND", "No adapter is stored for this user");
      const bytes = encodeAdapter(adapter);
      return reply
        .type("application/octet-stream")
        .header(
          "content-disposition",
          `attachment; filename="adapter-v${adapter.version}.safetensors"`,
        )
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
      let adapter: Adapter;
      try {
        adapter = await importAdapterFile(
          runtime.adapters,
          request.params.user,
          new Uint8Array(body),
          {
            shape: { k: runtime.head.k, m: runtime.head.m },
          },
        );
      } catch (error) {
        throw toProblemError(error);
      }
      return {
        user: adapter.user,
        version: adapter.version,
        stale: adapter.headHash !== runtime.head.hash,
      };
    },
  );
};
