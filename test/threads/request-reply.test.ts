import { describe, expect, it } from "vitest";
import { RequestReply } from "../../src/threads/request-reply.js";

describe("RequestReply", () => {
  it("settles each request with the reply that carries its id", async () => {
    const requests = new RequestReply<string>();
    const sent: number[] = [];
    const first = requests.request((id) => sent.push(id));
    const second = requests.request((id) => sent.push(id));
    expect(new Set(sent).size).toBe(2);
    expect(requests.size).toBe(2);
    expect(requests.resolve(sent[1]!, "two")).toBe(true);
    expect(requests.reject(sent[0]!, new Error("one failed"))).toBe(true);
    await expect(second).resolves.toBe("two");
    await expect(first).rejects.toThrow("one failed");
    expect(requests.size).toBe(0);
    expect(requests.resolve(sent[1]!, "again")).toBe(false);
  });

  it("rejects every request still waiting once the worker is gone", async () => {
    const requests = new RequestReply<string>();
    const waiting = [requests.request(() => {}), requests.request(() => {})];
    const lost = new Error("worker exited");
    requests.rejectAll(lost);
    expect(requests.size).toBe(0);
    for (const request of waiting) await expect(request).rejects.toBe(lost);
  });

  it("rejects, and stops waiting for, a request whose message could not be sent", async () => {
    const requests = new RequestReply<string>();
    const failed = requests.request(() => {
      throw new Error("could not clone");
    });
    await expect(failed).rejects.toThrow("could not clone");
    expect(requests.size).toBe(0);
  });
});
