import { createServer, type Server, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { MAX_SLOW_CONNECTIONS, SlowBodies } from "../../loadtest/slow-bodies.js";
import { TargetError } from "../../loadtest/target.js";

let server: Server | undefined;
let slow: SlowBodies | undefined;
afterEach(async () => {
  slow?.close();
  slow = undefined;
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  server = undefined;
});

/** A TCP server that records what each connection sent, and can answer and hang up. */
async function recordingServer() {
  const sockets: { socket: Socket; bytes: string }[] = [];
  server = createServer((socket) => {
    const entry = { socket, bytes: "" };
    sockets.push(entry);
    socket.on("data", (chunk) => {
      entry.bytes += chunk.toString("latin1");
    });
    socket.on("error", () => {});
  });
  await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return { url: `http://127.0.0.1:${port}`, sockets };
}

const until = async (condition: () => boolean, ms = 3000) => {
  const deadline = Date.now() + ms;
  while (!condition() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
};

describe("SlowBodies", () => {
  it("refuses targets off loopback and counts over the cap, before connecting", async () => {
    await expect(SlowBodies.open({ url: "http://192.0.2.1:8080", count: 1 })).rejects.toThrow(
      TargetError,
    );
    await expect(
      SlowBodies.open({ url: "http://127.0.0.1:1", count: MAX_SLOW_CONNECTIONS + 1 }),
    ).rejects.toThrow(RangeError);
  });

  it("sends the headers at once, then one body byte per interval, never the whole body", async () => {
    const target = await recordingServer();
    slow = await SlowBodies.open({ url: target.url, count: 3, intervalMs: 20, declaredBytes: 8 });
    expect(slow.open).toBe(3);
    await until(
      () => target.sockets.length === 3 && target.sockets.every((s) => s.bytes.endsWith('{"item')),
    );
    for (const { bytes } of target.sockets) {
      const [head, body] = bytes.split("\r\n\r\n");
      expect(head).toMatch(/^POST \/v1\/score HTTP\/1\.1\r\n/);
      expect(head).toContain("content-length: 8");
      expect(body).toBe('{"item');
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
    for (const { bytes } of target.sockets) expect(bytes.split("\r\n\r\n")[1]).toBe('{"items');
    slow.close();
    expect(slow.open).toBe(0);
  });

  it("records what the server answered before closing, and reopens when asked", async () => {
    const target = await recordingServer();
    slow = await SlowBodies.open({ url: target.url, count: 2, reopen: true, intervalMs: 50 });
    await until(() => target.sockets.length === 2);
    target.sockets[0]!.socket.end("HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\n\r\n");
    target.sockets[1]!.socket.destroy();
    await until(() => target.sockets.length === 4);
    expect(target.sockets).toHaveLength(4);
    await until(() => slow!.open === 2);
    const stats = slow.stats;
    expect(stats.opened).toBe(4);
    expect(stats.closedByServer).toEqual({ "408": 1, none: 1 });
    expect(stats.closedAfterMs).toHaveLength(2);
  });
});
