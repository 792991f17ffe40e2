import { describe, expect, it } from "vitest";
import { BOOKING_DELAY_MS } from "../../../../test/booking";
import { apiHost, expectError, waitingGate, type ApiHostFixture } from "./api-host";

const gates = "/api/workflows/gate/instances";
const bookings = "/api/workflows/booking/instances";

/** Every record's seq, from the history route. */
async function seqs(api: ApiHostFixture, path: string): Promise<number[]> {
  return ((await api.get(`${path}/history`)).body.records as { seq: number }[]).map((record) => record.seq);
}

describe("GET …/instances/{id}/state?after=<seq>: time travel over HTTP", () => {
  it("shows a machine's state value, context, status and open steps after each record, ending where status() stands", async () => {
    const api = await waitingGate(expect);
    expect((await api.post(`${gates}/g1/events`, { type: "approve", payload: { by: "ada" } })).status).toBe(202);
    await api.settle();
    const all = await seqs(api, `${gates}/g1`);
    const instants = await Promise.all(all.map(async (seq) => (await api.get(`${gates}/g1/state?after=${seq}`)).body));
    expect(instants[0]).toMatchObject({ kind: "machine", seq: 1, status: "running", value: "preparing", context: { approval: null } });
    expect(instants[0].steps).toEqual([expect.objectContaining({ src: "prepare", phase: "ready" })]);
    expect(instants.find((instant) => instant.value === "approval")).toMatchObject({ status: "waiting", steps: [], context: { approval: null } });
    const last = instants.at(-1);
    expect(last).toMatchObject({ seq: all.at(-1), status: "complete", value: "done", context: { approval: { by: "ada" } }, output: { approval: { by: "ada" } } });
    const { id: _id, ...status } = (await api.get(`${gates}/g1`)).body;
    expect({ status: last.status, value: last.value, output: last.output }).toEqual(status);
  });

  it("shows a code-first run's step results in the order they settled, a sensitive output [REDACTED], and what it waits on", async () => {
    const api = apiHost();
    expect((await api.post(bookings, { id: "b1" })).status).toBe(201);
    for (let i = 0; i < 3; i++) {
      await api.settle();
      api.clock.advance(BOOKING_DELAY_MS);
    }
    await api.settle();
    const history = (await api.get(`${bookings}/b1/history`)).body.records as { seq: number; type: string; data: { key?: string } }[];
    const waitStarted = history.find((record) => record.type === "wait.started")!;
    const instant = (await api.get(`${bookings}/b1/state?after=${waitStarted.seq}`)).body;
    expect(instant).toMatchObject({ kind: "code", seq: waitStarted.seq, status: "waiting", waitingOn: ["waitForEvent:approval-1"] });
    expect(instant.results.map((result: { key: string }) => result.key)).toEqual(["do:mint token-1", "do:reserve seat-1", "do:notify-1", "do:notify-2"]);
    expect(instant.results[0]).toEqual({ key: "do:mint token-1", ok: true, output: "[REDACTED]" });
    expect(instant.results[1]).toEqual({ key: "do:reserve seat-1", ok: true, output: { seat: "12A" } });
    expect(JSON.stringify(instant)).not.toContain("s3cr3t");
    // Between the reservation's failed attempt and its retry: the mint settled, the reservation waits on its backoff.
    const failed = history.find((record) => record.type === "step.attempt_failed")!;
    const backoff = (await api.get(`${bookings}/b1/state?after=${failed.seq}`)).body;
    expect(backoff).toMatchObject({ status: "waiting", waitingOn: ["do:reserve seat-1"], results: [{ key: "do:mint token-1", ok: true, output: "[REDACTED]" }] });
  });

  it("refuses an `after` that names no record with history.invalid_range, and an unknown instance with instance.not_found", async () => {
    const api = await waitingGate(expect);
    const last = (await seqs(api, `${gates}/g1`)).at(-1)!;
    expect((await api.get(`${gates}/g1/state?after=${last}`)).status).toBe(200);
    for (const after of ["0", String(last + 1), "-1", "1.5", "1e3", "x", "", "99999999999999999999"]) {
      expect(expectError(await api.get(`${gates}/g1/state?after=${after}`), 400, "history.invalid_range", expect), after).toMatch(/after/);
    }
    expectError(await api.get(`${gates}/g1/state`), 400, "history.invalid_range", expect);
    expectError(await api.get(`${gates}/nope/state?after=1`), 404, "instance.not_found", expect);
  });

  it("is in the OpenAPI document with its query and answer", async () => {
    const api = apiHost();
    const document = (await api.get("/api/openapi.json")).body;
    const route = document.paths["/api/workflows/{name}/instances/{id}/state"].get;
    expect(route.parameters.map((p: { name: string }) => p.name).sort()).toEqual(["after", "id", "name"]);
    expect(route.responses["400"].description).toContain("history.invalid_range");
    expect(document.components.schemas.InstanceState).toBeDefined();
  });
});
