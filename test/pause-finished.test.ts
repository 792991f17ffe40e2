import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Params } from "./conformance/bodies";
import { until } from "./until";
import { workflows } from "./worker";

/**
 * pause() of a finished instance succeeds and changes nothing, on the
 * Durable Object host for every kind of workflow, as on Cloudflare's local
 * engine (run here through its own binding): pause() returns unless the
 * instance runs or waits. resume() and terminate() of one are refused.
 */
const client = () => workflows.client(env);
const FINAL = ["complete", "errored", "terminated"];

async function finished(workflow: string, id: string, params: unknown, terminate: boolean) {
  const instance = await client().workflow(workflow).create({ id, params });
  if (terminate) {
    await until(() => instance.status(), (s) => s.status !== "queued" && s.status !== "running", `${id} to wait`);
    await instance.terminate();
  }
  await until(() => instance.status(), (s) => FINAL.includes(s.status), `${id} to finish`);
  return instance;
}

describe("pause() of a finished instance on the Durable Object host", () => {
  it.each([
    ["a machine, complete", "instant", {}, false],
    ["a code-first run, errored", "loud-failure", { characters: 1 }, false],
    ["a code-first run, terminated while it waits", "dm-held", {}, true],
    ["a DAG, terminated while a retry waits", "dag-diamond", {}, true],
  ])("%s: pause() succeeds and writes nothing; resume() and terminate() are refused", async (_, workflow, params, terminate) => {
    const id = `pause-finished-${workflow}`;
    const instance = await finished(workflow, id, { instance: id, ...params }, terminate);
    const log = await instance.history();
    const status = await instance.status();
    await instance.pause();
    expect(await instance.history()).toEqual(log);
    expect(await instance.status()).toEqual(status);
    await expect(instance.resume()).rejects.toMatchObject({ code: "instance.cannot_resume" });
    await expect(instance.terminate()).rejects.toMatchObject({ code: "instance.cannot_terminate" });
    expect(await instance.history()).toEqual(log);
  });

  it("Cloudflare's local engine does the same: pause() of a complete instance returns and the instance stays complete", async () => {
    const binding = (env as unknown as Record<string, Workflow<Params>>).CF_SEQUENTIAL!;
    const instance = await binding.create({ id: "cf-pause-finished", params: {} });
    await until(() => instance.status(), (s) => s.status === "complete", "Cloudflare's run to complete");
    await instance.pause();
    expect((await instance.status()).status).toBe("complete");
  });
});
