import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { expect } from "vitest";

/** A finished instance keeps one alarm, its retention's: rung before then, it changes nothing and is set again. */
export async function expectOnlyRetentionAlarm(object: () => DurableObjectStub, read: () => Promise<unknown>): Promise<void> {
  const before = await read();
  expect(await runDurableObjectAlarm(object())).toBe(true);
  expect(await read()).toEqual(before);
  expect(await runInDurableObject(object(), (_object, state) => state.storage.getAlarm())).not.toBeNull();
}
