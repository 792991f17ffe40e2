import { describe, expect, it } from "vitest";
import { createManualClock, createMemoryHost, defineWorkflow, MemoryStorage, WorkflowEntrypoint } from "../../index";

/**
 * Ids Cloudflare reserves in a `createBatch({ instances })`: batch, terminate, terminateAll, and cf_ followed by
 * 64 lowercase hex digits. Its local engine refuses them there as invalid ids and accepts them in create() and in
 * the older array form of createBatch (test/conformance.test.ts compares the two engines).
 */

const workflow = defineWorkflow({
  name: "ids",
  entrypoint: class extends WorkflowEntrypoint {
    async run() {
      return "done";
    }
  },
});

function host() {
  const storage = new MemoryStorage();
  return { storage, client: createMemoryHost({ workflows: [workflow], clock: createManualClock(), storage }).workflow("ids") };
}

const hex64 = "0123456789abcdef".repeat(4);
const RESERVED = ["batch", "terminate", "terminateAll", `cf_${hex64}`];
/** Near misses that are ordinary ids. */
const ORDINARY = ["Batch", "batches", "terminate-all", `cf_${hex64.toUpperCase()}`, `cf_${hex64.slice(1)}`, `cf_${hex64}0`, `xcf_${hex64.slice(1)}`];

describe("createBatch({ instances }) refuses the ids Cloudflare reserves", () => {
  it("each reserved id is refused at its position as instance.invalid_id, nothing is stored for it, and the rest are created", async () => {
    const { storage, client } = host();
    const instances = [{ id: "before" }, ...RESERVED.map((id) => ({ id })), ...ORDINARY.map((id) => ({ id }))];
    const { created, errors } = await client.createBatch({ instances });
    expect(created.map((instance) => instance.id)).toEqual(["before", ...ORDINARY]);
    expect(errors).toEqual(
      RESERVED.map((id, i) => ({
        index: i + 1,
        id,
        code: "instance.invalid_id",
        message: `Instance id "${id}" is reserved in a batch, as on Cloudflare (batch, terminate, terminateAll, and cf_ followed by 64 lowercase hex digits); choose another id.`,
      })),
    );
    for (const id of RESERVED) expect(storage.has("ids", id), id).toBe(false);
  });

  it("create() and the older array form of createBatch accept them, as Cloudflare's do", async () => {
    const { client } = host();
    expect((await client.create({ id: "batch" })).id).toBe("batch");
    const legacy = (await client.createBatch(RESERVED.slice(1).map((id) => ({ id })))) as { id: string }[];
    expect(legacy.map((instance) => instance.id)).toEqual(RESERVED.slice(1));
  });
});
