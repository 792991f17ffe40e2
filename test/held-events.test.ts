import { env } from "cloudflare:workers";
import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { expect, it } from "vitest";
import { EventsPilingUpError } from "../core/errors";
import { largeEvent } from "./large-events";
import { workflows } from "./worker";

/**
 * Events no state takes wait in the instance's inbox, in memory and in each snapshot. Before they were bounded, about
 * eight of 1 MiB made the snapshot a row SQLite refused (SQLITE_TOOBIG) after the event was recorded; forty would
 * have held 40 MiB in the object. Now the instance holds up to 16 MiB of them and refuses the next, its log as it was.
 */
it("an instance holds 16 MiB of events it has not taken, refuses the next with the log unchanged, and reloads from its snapshots", async () => {
  const client = workflows.client(env);
  const instance = await client.workflow("deaf").create({ id: "deaf-1" });
  let accepted = 0;
  for (; accepted < 16; accepted++) await instance.sendEvent(largeEvent(accepted));
  const before = await instance.historyPage({ after: 0 }).then(async function all(page): Promise<number> {
    return page.next === undefined ? page.records.at(-1)!.seq : all(await instance.historyPage({ after: page.next }));
  });
  const refusal = await instance.sendEvent(largeEvent(accepted)).catch((error: unknown) => error);
  expect(refusal).toBeInstanceOf(EventsPilingUpError);
  expect((refusal as EventsPilingUpError).code).toBe("event.too_many_waiting");
  const stub = env.WORKFLOW_INSTANCES.get(env.WORKFLOW_INSTANCES.idFromName("deaf/deaf-1"));
  const rows = () =>
    runInDurableObject(stub, (_object, state) => ({
      last: state.storage.sql.exec<{ seq: number }>("SELECT MAX(seq) AS seq FROM log").one().seq,
      biggest: Math.max(
        state.storage.sql.exec<{ n: number }>("SELECT MAX(LENGTH(data)) AS n FROM log").one().n,
        state.storage.sql.exec<{ n: number }>("SELECT MAX(LENGTH(bytes)) AS n FROM snapshot_parts").one().n,
      ),
    }));
  const stored = await rows();
  expect(stored.last).toBe(before);
  expect(stored.biggest).toBeLessThanOrEqual(2_000_000);
  await evictDurableObject(stub);
  await instance.sendEvent({ type: "stop" });
  expect((await instance.status()).status).toBe("complete");
}, 120_000);
