import { describe, expect, it } from "vitest";
import { setup } from "xstate";
import { InvalidEventError, InvalidOperationError } from "../../core/errors";
import { defineWorkflow } from "../../core/definition";
import { createMemoryHost } from "./host";
import { createManualClock } from "./manual-clock";

/** Arguments a JavaScript caller (or an RPC) can pass that the types forbid: each is refused with a typed error, the log as it was. */
const waiting = defineWorkflow({
  name: "waiting",
  machine: setup({}).createMachine({ id: "waiting", initial: "idle", states: { idle: { on: { go: "done" } }, done: { type: "final" } } }),
});

async function instance() {
  const host = createMemoryHost({ workflows: [waiting], clock: createManualClock() });
  const handle = await host.workflow("waiting").create({ id: "w-1" });
  return { host, handle, log: await handle.history() };
}

describe("client arguments outside the types", () => {
  it.each([null, undefined, "go", 7, ["go"]])("sendEvent(%j) is refused with event.invalid and records nothing", async (event) => {
    const { handle, log } = await instance();
    await expect(handle.sendEvent(event as never)).rejects.toThrow(InvalidEventError);
    expect(await handle.history()).toEqual(log);
  });

  it.each([
    [{ status: "finished" }, "list.invalid_status"],
    [{ status: { toString: 1 } }, "list.invalid_status"],
    [{ limit: 0 }, "list.invalid_limit"],
    [{ limit: "10" }, "list.invalid_limit"],
    [{ cursor: { toString: 1 } }, "list.invalid_cursor"],
    [{ cursor: "w-1" }, "list.invalid_cursor"],
    [{ cursor: "newest:1e400:w-1" }, "list.invalid_cursor"],
    [{ cursor: "newest:0:w-1", order: "oldest" }, "list.invalid_cursor"],
    [{ order: "latest" }, "list.invalid_order"],
    [{ order: { toString: 1 } }, "list.invalid_order"],
    [null, "list.invalid"],
  ])("list(%j) is refused with %s", async (options, code) => {
    const { host } = await instance();
    const refusal = await host.workflow("waiting").list(options as never).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(InvalidOperationError);
    expect((refusal as InvalidOperationError).code).toBe(code);
  });

  it("list() with good options pages as before", async () => {
    const { host } = await instance();
    await host.workflow("waiting").create({ id: "w-2" });
    const first = await host.workflow("waiting").list({ limit: 1 });
    expect(first.instances.map((i) => i.id)).toEqual(["w-2"]);
    expect((await host.workflow("waiting").list({ limit: 1, cursor: first.cursor! })).instances.map((i) => i.id)).toEqual(["w-1"]);
  });
});
