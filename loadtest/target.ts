import { isIP } from "node:net";

/** Where load goes: a base URL and the headers every request carries (an API key). */
export interface Target {
  url: string;
  headers: Record<string, string>;
}

export class TargetError extends Error {
  readonly code = "INVALID_TARGET";
  override readonly name = "TargetError";
}

export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, "").toLowerCase();
  if (host === "localhost" || host.endsWith(".localhost")) return true;
  if (isIP(host) === 4) return host.startsWith("127.");
  if (isIP(host) === 6) return host === "::1" || host.startsWith("::ffff:127.");
  return false;
}

/**
 * The base URL load is sent to, without a trailing slash. Load goes to loopback unless the user
 * named the target with --url (`explicit`): nothing else may point it at another host.
 */
export function resolveTarget(url: string, explicit: boolean): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TargetError(`expected an http(s) URL such as http://127.0.0.1:8080, got ${url}`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new TargetError(`expected an http: or https: URL, got ${parsed.protocol}`);
  }
  if (parsed.search !== "" || parsed.hash !== "" || parsed.username !== "") {
    throw new TargetError(`expected a base URL without query, fragment or credentials: ${url}`);
  }
  if (!explicit && !isLoopbackHost(parsed.hostname)) {
    throw new TargetError(
      `refusing to send load to ${parsed.hostname}: only loopback targets unless --url names one`,
    );
  }
  return `${parsed.origin}${parsed.pathname.replace(/\/+$/, "")}`;
}
