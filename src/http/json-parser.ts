import type { FastifyInstance } from "fastify";
import { ProblemError } from "./problem-error.js";

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/** JSON bodies must be valid UTF-8: silently replacing bytes would score a different text. */
export function registerJsonParser(app: FastifyInstance): void {
  app.removeContentTypeParser(["application/json", "text/plain"]);
  app.addContentTypeParser(
    "application/json",
    { parseAs: "buffer" },
    (_request, body: Buffer, done) => {
      let text: string;
      try {
        text = strictUtf8.decode(body);
      } catch {
        done(
          new ProblemError("INVALID_JSON", "The body is not valid UTF-8", { field: "body" }),
          undefined,
        );
        return;
      }
      if (text.trim().length === 0) {
        done(new ProblemError("INVALID_JSON", "The body is empty", { field: "body" }), undefined);
        return;
      }
      try {
        done(null, JSON.parse(text));
      } catch (error) {
        done(
          new ProblemError(
            "INVALID_JSON",
            `The body is not valid JSON: ${(error as Error).message}`,
            {
              field: "body",
            },
          ),
          undefined,
        );
      }
    },
  );
}
