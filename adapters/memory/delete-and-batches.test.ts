import { describe, expect, it } from "vitest";
import { setup } from "xstate";
import { createManualClock, createMemoryHost, defineWorkflow, InstanceNotFoundError } from "../../index";

const waits = defineWorkflow({
  name: "waits",
  machine: setup({}).createMachine({ id: "waits", initial: "idle", states: { idle: { on: { go: "done" } }, done: { type: "final" } } }),
});

const hostFor = () => createMemoryHost({ workflows: [waits], clock: createManualClock() });

describe("delete and Cloudflare's batch forms", () => {
  it("delete wipes an instance, its log included, and frees its id", async () => {
    const host = hostFor();
    const client = host.workflow("waits");
    const instance = await client.create({ id: "gone" });
    await instance.delete();
    await expect(client.get("gone")).rejects.toBeInstanceOf(InstanceNotFoundError);
    expect(host.storage.has("waits", "gone")).toBe(false);
    await expect(instance.delete()).rejects.toBeInstanceOf(InstanceNotFoundError);
    const again = await client.create({ id: "gone" });
    expect((await again.history()).map((r) => r.type)).toEqual(["instance.created"]);
  });

  it("deleteBatch answers once per id given: a repeat is deleted once and reported each time; a missing one is an error", async () => {
    const client = hostFor().workflow("waits");
    await client.create({ id: "a" });
    await client.create({ id: "b" });
    const result = await client.deleteBatch(["a", "missing", "a", "b"]);
    expect(result.deleted).toEqual([{ id: "a" }, { id: "a" }, { id: "b" }]);
    expect(result.errors.map(({ id, code }) => ({ id, code }))).toEqual([{ id: "missing", code: "instance.not_found" }]);
    await expect(client.deleteBatch([])).rejects.toMatchObject({ code: "batch.invalid" });
  });

  it("createBatch({ count, params }) makes that many instances with random ids", async () => {
    const client = hostFor().workflow("waits");
    const { created, errors } = await client.createBatch({ count: 3 });
    expect(created).toHaveLength(3);
    expect(new Set(created.map((c) => c.id)).size).toBe(3);
    expect(errors).toEqual([]);
    await expect(client.createBatch({ count: 0 })).rejects.toMatchObject({ code: "batch.invalid" });
  });

  it("the older array form returns only the created instances, skipping duplicates and refusals", async () => {
    const client = hostFor().workflow("waits");
    await client.create({ id: "exists" });
    const created = await client.createBatch([{ id: "one" }, { id: "exists" }, { id: "one" }, { id: "-bad" }, { id: "two" }]);
    expect(created.map((c) => c.id)).toEqual(["one", "two"]);
  });
});
