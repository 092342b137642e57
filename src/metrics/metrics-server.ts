import { createServer, type Server } from "node:http";
import type { ServiceMetrics } from "./service-metrics.js";

export interface MetricsServer {
  url: string;
  close(): Promise<void>;
}

/**
 * GET /metrics on a listener of its own (metricsPort), so scrapes bypass the API's limits and
 * the API port need not be reachable from the monitoring network.
 */
export async function startMetricsServer(options: {
  host: string;
  port: number;
  metrics: ServiceMetrics;
  /** Decides on the Authorization header when metrics are protected. */
  authorize?: (authorization: string | undefined) => boolean;
}): Promise<MetricsServer> {
  const { metrics, authorize } = options;
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? "/").split("?")[0];
    if (path !== "/metrics" || (request.method !== "GET" && request.method !== "HEAD")) {
      response.writeHead(404, { "content-type": "text/plain" }).end("Not found\n");
      return;
    }
    if (authorize && !authorize(request.headers.authorization)) {
      response
        .writeHead(401, {
          "content-type": "text/plain",
          "www-authenticate": 'Bearer realm="sharelora"',
        })
        .end("Missing or invalid API key\n");
      return;
    }
    metrics.render().then(
      (text) => response.writeHead(200, { "content-type": metrics.contentType }).end(text),
      () => response.writeHead(500, { "content-type": "text/plain" }).end("Metrics failed\n"),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : options.port;
  const host = options.host.includes(":") ? `[${options.host}]` : options.host;
  return {
    url: `http://${host}:${port}/metrics`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
