import { z } from "zod";
import { requestLimits } from "../config.js";
import type { RoutePlugin } from "../http/app-state.js";
import { mayActFor } from "../http/auth.js";
import { ProblemError } from "../http/problem-error.js";
import { problemOf } from "../http/problem-map.js";
import { problem, problemResponses } from "../schemas/common.js";
import { fitAccepted, fitRequest, fitResult, jobStatus } from "../schemas/fit.js";
import { userParams } from "../schemas/users.js";
import type { FitProgress } from "../service/fit-service.js";
import type { Job } from "../service/jobs.js";

/** A job as the client sees it: a failure is told by its problem's code and detail. */
function jobBody(job: Job) {
  const { failure, ...rest } = job;
  if (job.phase !== "failed") return rest;
  const problem = problemOf(failure);
  return { ...rest, error: { code: problem.code, detail: problem.message } };
}

export const fitRoutes: RoutePlugin = async (app, { state, config }) => {
  const limits = requestLimits(config);

  app.post(
    "/v1/users/:user/fit",
    {
      schema: {
        summary: "Onboard or update a user: fit W from preference pairs with B frozen",
        description:
          `Up to ${config.fitSyncMaxPairs} pairs the fit runs before the answer (200); larger requests ` +
          "answer 202 with a job to poll at /v1/jobs/{id}. An append to a user whose adapter was " +
          "fitted against another head answers 409: its stored pair statistics cannot be recomputed " +
          'for the served head, so send all of the user\'s pairs again with "mode": "replace". ' +
          "A head without a shared basis (B = 0: a reward model imported without --calibration) " +
          "answers 409 NO_SHARED_BASIS until `sharelora fit --keep-theta0` learns B.",
        tags: ["users"],
        params: userParams,
        body: fitRequest(limits),
        response: {
          200: fitResult,
          202: fitAccepted,
          409: problem,
          ...problemResponses,
        },
      },
    },
    async (request, reply) => {
      const runtime = state.require();
      const { user } = request.params;
      const body = request.body;
      if (body.pairs.length > config.maxFitPairs) {
        throw new ProblemError(
          "PAYLOAD_TOO_LARGE",
          `${body.pairs.length} pairs is more than the ${config.maxFitPairs} allowed in one fit`,
          { field: "pairs" },
        );
      }
      const { chosen, rejected } = runtime.texts.preferences(body.pairs);
      const fitRequestBody = { chosen, rejected, mode: body.mode, l2: body.l2 };
      if (body.pairs.length <= config.fitSyncMaxPairs) {
        return runtime.fits.fit(user, fitRequestBody);
      }
      // A fit that cannot succeed (an append to a stale or unreadable adapter) fails before its job.
      await runtime.fits.check(user, body.mode);
      const job = runtime.jobs.start(
        user,
        chosen.length * 2,
        (onProgress: (progress: FitProgress) => void) =>
          runtime.fits.fit(user, fitRequestBody, { onProgress }),
      );
      return reply.code(202).send({
        job_id: job.job_id,
        status_url: `/v1/jobs/${job.job_id}`,
        n_new_pairs: body.pairs.length,
      });
    },
  );

  app.get(
    "/v1/jobs/:id",
    {
      schema: {
        summary: "Status of a background fit",
        tags: ["users"],
        params: z.object({ id: z.string().uuid() }),
        response: { 200: jobStatus, 404: problem, ...problemResponses },
      },
    },
    async (request) => {
      const runtime = state.require();
      const job = runtime.jobs.get(request.params.id);
      if (!job || !mayActFor(request, job.user)) {
        throw new ProblemError(
          "JOB_NOT_FOUND",
          "No such job (jobs are kept in memory for an hour)",
        );
      }
      return jobBody(job);
    },
  );
};
