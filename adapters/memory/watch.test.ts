import { describe, expect, it } from "vitest";
import { gate } from "../worker/api/tests/api-host";
import { booking } from "../../test/booking";
import { changeUntil, watchScenario } from "../../test/watch-scenario";
import type { WorkflowChange } from "../../runtime/workflow-watch";
import { createMemoryHost } from "./host";
import { createManualClock } from "./manual-clock";

const host = () => createMemoryHost({ workflows: [gate], clock: createManualClock(1_000_000) });

describe("watch() on the memory host", () => {
  it("tells a sync with the counts, then each instance's creation, its status as it settles and its deletion, with the counts after each", async () => {
    await watchScenario(host().workflow("gate"), "watched");
  });

  it("tells an instance whose retention ran out as deleted, and instances that were there before the watch in its counts", async () => {
    const clock = createManualClock(1_000_000);
    const memory = createMemoryHost({ workflows: [gate], clock });
    const before = await memory.workflow("gate").create({ id: "before" });
    await memory.idle();
    await before.sendEvent({ type: "approve" });
    const brief = await memory.workflow("gate").create({ id: "brief", retention: { successRetention: 1_000 } });
    await memory.idle();
    const watch = await memory.workflow("gate").watch();
    expect((await watch.next()).value).toMatchObject({ type: "sync", counts: { complete: 1, waiting: 1 } });
    await brief.sendEvent({ type: "approve" });
    const seen: WorkflowChange[] = [];
    await changeUntil(watch, seen, (change) => change.type === "updated" && change.instance.id === "brief" && change.instance.status === "complete");
    clock.advance(1_000);
    expect(await changeUntil(watch, seen, (change) => change.type === "deleted")).toMatchObject({ type: "deleted", id: "brief", counts: { complete: 1, waiting: 0 } });
    watch[Symbol.dispose]();
  });

  it("tells the watches of a workflow only of its own instances, and forgets a disposed watch", async () => {
    const memory = createMemoryHost({ workflows: [gate, booking], clock: createManualClock(1_000_000) });
    const watch = await memory.workflow("gate").watch();
    await watch.next();
    const gone = await memory.workflow("gate").watch();
    gone[Symbol.dispose]();
    await memory.workflow("booking").create({ id: "elsewhere" });
    await memory.workflow("gate").create({ id: "one" });
    expect((await watch.next()).value).toMatchObject({ type: "created", instance: { id: "one" } });
    expect(await gone.next()).toEqual({ done: true, value: undefined });
  });
});
