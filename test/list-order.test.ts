import { env } from "cloudflare:workers";
import { expect, it } from "vitest";
import type { RegistryEntry } from "../adapters/durable-object/registry-object";
import type { InstanceSummary, ListQuery } from "../runtime/client";
import { listOrderScenario } from "./list-order";
import { skipAhead } from "./skew-clock";
import { until } from "./until";
import { workflows } from "./worker";

const gate = () => workflows.client(env).workflow("gate");

it("list() is newest first unless asked for oldest, across pages, and a cursor holds while instances come and go", async () => {
  await listOrderScenario(
    {
      gate: gate(),
      advance: skipAhead,
      async listed(prefix, ids) {
        const want = JSON.stringify(ids.map((id) => [id, "waiting"]).sort());
        await until(
          async () => (await gate().list({ limit: 1000 })).instances.filter((s) => s.id.startsWith(prefix)),
          (shown) => JSON.stringify(shown.map((s) => [s.id, s.status]).sort()) === want,
          `the registry to list ${ids.join(", ")} as waiting`,
        );
      },
    },
    "order",
  );
});

interface Registry {
  update(workflow: string, entry: RegistryEntry): Promise<void>;
  list(query: ListQuery): Promise<InstanceSummary[]>;
}

it("the registry's index orders the same millisecond by id, filters by status in order, and pages after a position", async () => {
  const registry = env.WORKFLOW_REGISTRY.get(env.WORKFLOW_REGISTRY.idFromName("list-order-ties")) as unknown as Registry;
  const entry = (id: string, createdAt: number, status: RegistryEntry["status"] = "waiting"): RegistryEntry => ({ id, status, createdAt, updatedAt: createdAt, seq: 1 });
  for (const e of [entry("m", 5), entry("z", 5), entry("a", 5), entry("old", 1, "complete"), entry("new", 9)]) await registry.update("list-order-ties", e);
  const ids = async (query: Omit<ListQuery, "limit"> & { limit?: number }) => (await registry.list({ limit: 10, ...query })).map((s) => s.id);
  expect(await ids({ order: "newest" })).toEqual(["new", "z", "m", "a", "old"]);
  expect(await ids({ order: "oldest" })).toEqual(["old", "a", "m", "z", "new"]);
  expect(await ids({ order: "newest", status: "waiting" })).toEqual(["new", "z", "m", "a"]);
  expect(await ids({ order: "newest", after: { createdAt: 5, id: "z" } })).toEqual(["m", "a", "old"]);
  expect(await ids({ order: "oldest", after: { createdAt: 5, id: "a" }, status: "waiting" })).toEqual(["m", "z", "new"]);
  // One more than the limit: the caller learns from it that another page follows.
  expect(await ids({ order: "newest", limit: 2 })).toEqual(["new", "z", "m"]);
});
