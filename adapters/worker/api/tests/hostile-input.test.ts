import { describe, expect, it } from "vitest";
import { apiHost, AUTH, expectError, waitingGate } from "./api-host";

const instances = "/api/workflows/gate/instances";
const g1 = `${instances}/g1`;

/** An object whose toString is not a function: String(value) throws on it. */
const noToString = { toString: 1 };

/** Runs the refusals and checks that no instance's log changed, byte for byte. */
async function unchanged(api: Awaited<ReturnType<typeof waitingGate>>, refuse: () => Promise<void>) {
  const before = api.logs();
  await refuse();
  expect(api.logs()).toBe(before);
}

describe("strings where strings are expected: hostile values are 400s with the field's code, never 500s", () => {
  it("refuses an object whose toString is not a function as an id, an event type, a key, restart's from, a batch-delete id", async () => {
    const api = await waitingGate(expect);
    await unchanged(api, async () => {
      expectError(await api.post(instances, { id: noToString }), 400, "instance.invalid_id", expect);
      expectError(await api.post(`${g1}/events`, { type: noToString }), 400, "event.invalid", expect);
      expectError(await api.post(`${g1}/events`, { type: "approve", idempotencyKey: noToString }), 400, "event.invalid", expect);
      expectError(await api.post(`${g1}/restart`, { from: noToString }), 400, "restart.invalid_from", expect);
      expectError(await api.post(`${instances}/batch/delete`, { ids: [noToString] }), 400, "instance.invalid_id", expect);
      expectError(await api.post(`${instances}/batch/delete`, { ids: ["g1", noToString] }), 400, "instance.invalid_id", expect);
      expectError(await api.post(`${instances}/batch`, { instances: [{ id: noToString }] }), 400, "instance.invalid_id", expect);
      expectError(await api.post(`${instances}/batch`, { count: noToString }), 400, "batch.invalid", expect);
      expectError(await api.post(`${g1}/terminate`, { rollback: noToString }), 400, "request.invalid", expect);
      expectError(await api.post(instances, { id: "r", retention: noToString }), 400, "retention.invalid", expect);
      expectError(await api.post(instances, { id: "r", locationHint: noToString }), 400, "location_hint.invalid", expect);
    });
    // The batch delete refused g1 along with the hostile id: it is still there.
    expect((await api.get(g1)).status).toBe(200);
  });

  it("refuses wrong types and lengths with the field's code", async () => {
    const api = await waitingGate(expect);
    await unchanged(api, async () => {
      for (const id of ["", 7, null, ["x"], "a".repeat(101), "-x", "a b", "é"]) expectError(await api.post(instances, { id }), 400, "instance.invalid_id", expect);
      for (const type of [5, "", "a".repeat(101), "xstate.init", "-approve", null, ["approve"]]) expectError(await api.post(`${g1}/events`, { type }), 400, "event.invalid", expect);
      expectError(await api.post(`${g1}/events`, {}), 400, "event.invalid", expect);
      for (const idempotencyKey of ["", "k".repeat(257), 12]) expectError(await api.post(`${g1}/events`, { type: "approve", idempotencyKey }), 400, "event.invalid", expect);
      for (const rollback of ["yes", 1, null]) expectError(await api.post(`${g1}/terminate`, { rollback }), 400, "request.invalid", expect);
      for (const from of [3, "", null, [], { name: 5 }, { name: "x", count: 0 }, { name: "x", count: 1.5 }, { name: "x", type: "nope" }, "k".repeat(1025)]) {
        expectError(await api.post(`${g1}/restart`, { from }), 400, "restart.invalid_from", expect);
      }
      for (const retention of [null, 5, { successRetention: true }, { keep: "1 day" }, { successRetention: "x".repeat(65) }]) {
        expectError(await api.post(instances, { id: "r", retention }), 400, "retention.invalid", expect);
      }
      expectError(await api.post(instances, { id: "r", locationHint: "mars" }), 400, "location_hint.invalid", expect);
    });
  });

  it("refuses bodies that are not a JSON object, and bodies that are not UTF-8", async () => {
    const api = await waitingGate(expect);
    await unchanged(api, async () => {
      for (const body of ["{ type: approve", "[]", '[{"type":"approve"}]', "null", '"approve"', "7", "true", "{}{}", '{"type":"approve"} x']) {
        expectError(await api.post(`${g1}/events`, body), 400, "request.invalid_json", expect);
      }
      expectError(await api.call("POST", `${g1}/events`, { body: new Uint8Array([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]) }), 400, "request.invalid_json", expect);
      expectError(await api.post(`${g1}/pause`, "not json"), 400, "request.invalid_json", expect);
    });
  });

  it("ignores keys named after Object.prototype's members in a body: they neither reach nor break anything", async () => {
    const api = await waitingGate(expect);
    const reply = await api.post(`${g1}/events`, '{"type":"approve","__proto__":{"type":"forged"},"constructor":{"prototype":1},"toString":7,"payload":{"__proto__":{"admin":true}}}');
    expect(reply.status, reply.text).toBe(202);
    await api.settle();
    const history = (await api.get(`${g1}/history`)).body.records as { type: string; data: { type?: string; payload?: unknown } }[];
    const received = history.find((r) => r.type === "event.received")!;
    expect(received.data.type).toBe("approve");
    expect(JSON.stringify(received.data.payload)).toBe('{"__proto__":{"admin":true}}');
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
  });
});

describe("queries: plain decimal digits only, every value bounded", () => {
  it("refuses ?limit= empty, in hex, with an exponent, signed, spaced, fractional, foreign digits, over the maximum or repeated", async () => {
    const api = await waitingGate(expect);
    for (const limit of ["", "0x10", "1e3", " 5", "5 ", "+5", "-1", "1.0", "٥", "1001", "99999999999999999999", "ten"]) {
      expectError(await api.get(`${instances}?limit=${encodeURIComponent(limit)}`), 400, "request.invalid_query", expect);
    }
    expectError(await api.get(`${instances}?limit=1&limit=2`), 400, "request.invalid_query", expect);
    expectError(await api.get(`${instances}?limit=0`), 400, "list.invalid_limit", expect);
    expect((await api.get(`${instances}?limit=1000`)).status).toBe(200);
    expect((await api.get(`${instances}?limit=007`)).body.instances).toHaveLength(1);
  });

  it("refuses an unknown status, a long cursor, and bad history ranges", async () => {
    const api = await waitingGate(expect);
    expect(expectError(await api.get(`${instances}?status=finished`), 400, "list.invalid_status", expect)).toContain("complete");
    expectError(await api.get(`${instances}?status=constructor`), 400, "list.invalid_status", expect);
    expectError(await api.get(`${instances}?cursor=${"c".repeat(257)}`), 400, "request.invalid_query", expect);
    for (const query of ["after=-1", "after=1e3", "after=", "limit=", "limit=10001", "after=0x1", "limit=two"]) {
      expectError(await api.get(`${g1}/history?${query}`), 400, "request.invalid_query", expect);
    }
    expectError(await api.get(`${g1}/history?limit=0`), 400, "history.invalid_range", expect);
  });

  it("refuses a bad stream cursor or filter before streaming", async () => {
    const api = await waitingGate(expect);
    for (const query of ["cursor=-1", "cursor=two", "cursor=", "filter=step_completed,nope", `filter=${"f".repeat(513)}`, Array.from({ length: 65 }, () => "filter=step_completed").join("&")]) {
      expectError(await api.get(`${g1}/events?${query}`), 400, "subscription.invalid", expect);
    }
    expectError(await api.call("GET", `${g1}/events`, { headers: { ...AUTH, "last-event-id": "" } }), 400, "subscription.invalid", expect);
  });
});

describe("paths: hostile segments are refused or not found, never a crash", () => {
  it("answers malformed percent-encoding with 400 request.invalid_path", async () => {
    const api = await waitingGate(expect);
    await unchanged(api, async () => {
      expectError(await api.get(`${instances}/%E0%A4%A`), 400, "request.invalid_path", expect);
      expectError(await api.get("/api/workflows/%ZZ/instances"), 400, "request.invalid_path", expect);
      expectError(await api.post(`${instances}/%/events`, { type: "approve" }), 400, "request.invalid_path", expect);
    });
  });

  it("answers invalid ids with instance.invalid_id, unknown names (prototype names included) with not_found", async () => {
    const api = await waitingGate(expect);
    await unchanged(api, async () => {
      for (const id of ["-x", "a".repeat(101), "a b", "a.b", "é", "a/b"]) expectError(await api.get(`${instances}/${encodeURIComponent(id)}`), 400, "instance.invalid_id", expect);
      for (const id of ["constructor", "__proto__", "toString", "hasOwnProperty"]) {
        expectError(await api.get(`${instances}/${id}`), 404, "instance.not_found", expect);
        expectError(await api.post(`${instances}/${id}/events`, { type: "approve" }), 404, "instance.not_found", expect);
      }
      for (const name of ["constructor", "__proto__", "toString", "nope", "n".repeat(65), "n".repeat(5000)]) {
        expectError(await api.get(`/api/workflows/${name}`), 404, "workflow.not_found", expect);
        expectError(await api.post(`/api/workflows/${name}/instances`, { id: "x" }), 404, "workflow.not_found", expect);
      }
    });
  });
});

describe("answers stay small whatever the request quotes", () => {
  it("cuts a refused key's name in the message", async () => {
    const api = apiHost();
    const message = expectError(await api.post(instances, { id: "r", retention: { ["k".repeat(50_000)]: 1 } }), 400, "retention.invalid", expect);
    expect(message.length).toBeLessThan(1000);
  });
});
