import { describe, expect, it } from "vitest";
import { MAX_JSON_DEPTH } from "../../../../core/json";
import { BATCH_BODY_BYTES, BODY_BYTES } from "../body";
import { apiHost, AUTH, expectError, waitingGate } from "./api-host";

const MIB = 1024 * 1024;
const instances = "/api/workflows/gate/instances";
const g1 = `${instances}/g1`;

/** A value nesting arrays `depth` levels deep. */
const nested = (depth: number) => `${"[".repeat(depth)}${"]".repeat(depth)}`;

/** A body sent as a stream of `chunks` pieces, so no Content-Length says how long it is. */
function streamed(text: string, chunks = 8): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  const size = Math.ceil(bytes.byteLength / chunks);
  let at = 0;
  return new ReadableStream({
    pull(controller) {
      if (at >= bytes.byteLength) return controller.close();
      controller.enqueue(bytes.slice(at, at + size));
      at += size;
    },
  });
}

describe("body limits: bodies are counted as they stream, whatever Content-Length says", () => {
  it("refuses a body over 1 MiB and its envelope even when the excess is outside params (accepted up to 8 MiB before), and creates nothing", async () => {
    const api = apiHost();
    const body = JSON.stringify({ id: "junk", params: {}, junk: "y".repeat(2 * MIB) });
    expectError(await api.post(instances, body), 413, "payload.too_large", expect);
    expect(api.host.storage.all()).toEqual([]);
  });

  it("refuses a body larger than its Content-Length claims, and one streamed with no Content-Length at all", async () => {
    const api = await waitingGate(expect);
    const before = api.logs();
    const big = JSON.stringify({ type: "approve", payload: "y".repeat(BODY_BYTES) });
    expectError(await api.call("POST", `${g1}/events`, { body: big, headers: { ...AUTH, "content-length": "20" } }), 413, "payload.too_large", expect);
    expectError(await api.call("POST", `${g1}/events`, { body: streamed(big) }), 413, "payload.too_large", expect);
    // A declared length over the limit is refused before anything is read.
    expectError(await api.call("POST", `${g1}/events`, { body: "{}", headers: { ...AUTH, "content-length": String(9 * MIB) } }), 413, "payload.too_large", expect);
    expect(api.logs()).toBe(before);
  });

  it("accepts a streamed body within the limit", async () => {
    const api = await waitingGate(expect);
    const reply = await api.call("POST", `${g1}/events`, { body: streamed(JSON.stringify({ type: "approve", payload: "y".repeat(MIB - 100) })) });
    expect(reply.status, reply.text).toBe(202);
  });

  it("counts a body's bytes as sent: a payload under 1 MiB written with every character escaped is refused when its body is over the limit", async () => {
    const api = await waitingGate(expect);
    const before = api.logs();
    const escaped = JSON.stringify({ type: "approve", payload: "中".repeat(200_000) }).replace(/[\u0080-\uffff]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16)}`);
    expect(escaped.length).toBeGreaterThan(BODY_BYTES);
    expectError(await api.post(`${g1}/events`, escaped), 413, "payload.too_large", expect);
    expect(api.logs()).toBe(before);
  });

  it("refuses params and event payloads over 1 MiB as JSON, inside a body under the limit", async () => {
    const api = await waitingGate(expect);
    const before = api.logs();
    expectError(await api.post(instances, { id: "big", params: "x".repeat(MIB) }), 413, "payload.too_large", expect);
    expectError(await api.post(`${g1}/events`, { type: "approve", payload: "x".repeat(MIB) }), 413, "payload.too_large", expect);
    expect(api.logs()).toBe(before);
  });

  it("gives a batch create 8 MiB: seven instances of nearly 1 MiB each are created, nine are refused whole", async () => {
    const api = apiHost();
    const entry = (i: number) => ({ id: `b${i}`, params: "p".repeat(MIB - 64) });
    const seven = await api.post(`${instances}/batch`, { instances: Array.from({ length: 7 }, (_, i) => entry(i)) });
    expect(seven.status, seven.text.slice(0, 300)).toBe(201);
    expect(seven.body.created).toHaveLength(7);
    const before = api.logs();
    const nine = JSON.stringify({ instances: Array.from({ length: 9 }, (_, i) => entry(i + 10)) });
    expect(nine.length).toBeGreaterThan(BATCH_BODY_BYTES);
    expectError(await api.post(`${instances}/batch`, nine), 413, "payload.too_large", expect);
    expect(api.logs()).toBe(before);
  });
});

describe("nesting is bounded at the door: payload.too_deep, the log untouched, the stream still readable", () => {
  it("refuses a body nested 3,500 deep (a stack overflow before) and 3,000 deep (accepted before, then the SSE stream broke for good)", async () => {
    const api = await waitingGate(expect);
    const before = api.logs();
    for (const depth of [3500, 3000, MAX_JSON_DEPTH]) {
      expectError(await api.post(`${g1}/events`, `{"type":"approve","payload":${nested(depth)}}`), 400, "payload.too_deep", expect);
      expectError(await api.post(instances, `{"id":"deep","params":${nested(depth)}}`), 400, "payload.too_deep", expect);
      expectError(await api.post(`${instances}/batch`, `{"count":1,"params":${nested(depth)}}`), 400, "payload.too_deep", expect);
    }
    expect(api.logs()).toBe(before);
    const stream = await api.send("GET", `${g1}/events`);
    expect(stream.status).toBe(200);
    await stream.body!.cancel();
  });

  it("accepts the deepest value the limit allows: the body's own object is one level", async () => {
    const api = await waitingGate(expect);
    const reply = await api.post(`${g1}/events`, `{"type":"approve","payload":${nested(MAX_JSON_DEPTH - 1)}}`);
    expect(reply.status, reply.text).toBe(202);
    await api.settle();
    expect((await api.get(g1)).body.status).toBe("complete");
    const stream = await api.send("GET", `${g1}/events`);
    expect(stream.status).toBe(200);
    expect(await stream.text()).toContain("workflow_completed");
  });
});

describe("sizes are checked before anything is allocated for them", () => {
  it("refuses a batch count of a billion at once (it allocated for 75 s and 939 MB before)", async () => {
    const api = apiHost();
    const started = performance.now();
    const reply = await api.post(`${instances}/batch`, { count: 1_000_000_000 });
    const elapsed = performance.now() - started;
    expectError(reply, 400, "batch.invalid", expect);
    expect(elapsed).toBeLessThan(1000);
    expect(api.host.storage.all()).toEqual([]);
  });

  it("refuses every batch outside 1 to 100 instances, and a batch giving both forms or neither", async () => {
    const api = apiHost();
    for (const batch of [
      { count: 0 },
      { count: 101 },
      { count: -1 },
      { count: 1.5 },
      { count: "3" },
      { count: 1e308 },
      { instances: [] },
      { instances: Array.from({ length: 101 }, (_, i) => ({ id: `over-${i}` })) },
      { instances: "all" },
      { instances: [{ id: "x" }], count: 1 },
      {},
    ]) {
      expectError(await api.post(`${instances}/batch`, batch), 400, "batch.invalid", expect);
    }
    for (const ids of [[], Array.from({ length: 101 }, () => "g1"), "g1", null]) {
      expectError(await api.post(`${instances}/batch/delete`, { ids }), 400, "batch.invalid", expect);
    }
    expect(api.host.storage.all()).toEqual([]);
  });

  it("refuses an array of a million entries quickly, before creating any", async () => {
    const api = apiHost();
    const started = performance.now();
    expectError(await api.post(`${instances}/batch`, `{"instances":[${Array.from({ length: 1_000_000 }, () => "{}").join(",")}]}`), 400, "batch.invalid", expect);
    expect(performance.now() - started).toBeLessThan(5000);
    expect(api.host.storage.all()).toEqual([]);
  });
});
