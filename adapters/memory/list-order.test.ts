import { describe, expect, it } from "vitest";
import { gate } from "../worker/api/tests/api-host";
import { listOrderScenario } from "../../test/list-order";
import { createMemoryHost } from "./host";
import { createManualClock } from "./manual-clock";

function world() {
  const clock = createManualClock(1_000_000);
  const host = createMemoryHost({ workflows: [gate], clock });
  return {
    host,
    clock,
    gate: host.workflow("gate"),
    advance: (ms: number) => clock.advance(ms),
    async listed(prefix: string, ids: readonly string[]) {
      await host.idle();
      const shown = (await host.workflow("gate").list({ limit: 1000 })).instances.filter((s) => s.id.startsWith(prefix));
      expect(shown.map((s) => [s.id, s.status]).sort()).toEqual(ids.map((id) => [id, "waiting"]).sort());
    },
  };
}

describe("list() on the memory host", () => {
  it("is newest first unless asked for oldest, across pages, and a cursor holds while instances come and go", async () => {
    await listOrderScenario(world(), "order");
  });

  it("lists instances created in the same millisecond by id: descending newest first, ascending oldest first", async () => {
    const { gate, host } = world();
    for (const id of ["m", "z", "a"]) await gate.create({ id });
    await host.idle();
    expect((await gate.list()).instances.map((s) => s.id)).toEqual(["z", "m", "a"]);
    expect((await gate.list({ order: "oldest" })).instances.map((s) => s.id)).toEqual(["a", "m", "z"]);
    const first = await gate.list({ limit: 1, order: "oldest" });
    expect(first.cursor).toBe("oldest:1000000:a");
    expect((await gate.list({ limit: 2, order: "oldest", cursor: first.cursor! })).instances.map((s) => s.id)).toEqual(["m", "z"]);
  });
});
