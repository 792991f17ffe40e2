import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { expect, it } from "vitest";
import { InstanceFinishedError, InstanceNotFoundError, NotSerializableError } from "../index";
import { until } from "./until";
import { workflows } from "./worker";

const client = () => workflows.client(env);
const objectOf = (id: string) => client().stub("stamper", id) as unknown as DurableObjectStub;

async function rejection(action: () => Promise<unknown>): Promise<unknown> {
  return action().then(() => undefined, (error: unknown) => error);
}

it.each([
  ["a Date", "date", /context\.when is a Date/],
  ["a Map", "map", /context\.when is a Map/],
  ["a class instance", "instance", /context\.when is a Money/],
  ["a function", "fn", /context\.when is a function/],
])("an event whose transition puts %s into context is recorded, and the instance ends errored naming it", async (_, kind, names) => {
  const id = `stamped-${kind}`;
  const instance = await client().workflow("stamper").create({ id });
  // The test Worker snapshots every two inputs: this event's batch is followed by a snapshot, which is what threw.
  await instance.sendEvent({ type: "stamp", payload: { kind } });
  const status = await instance.status();
  expect(status).toMatchObject({ status: "errored", value: "waiting", error: { name: "NotSerializableError" } });
  expect(status.error?.message).toMatch(names);
  const history = await instance.history();
  expect(history.map((r) => r.type)).toEqual(["instance.created", "event.received", "instance.errored"]);

  expect(await rejection(() => instance.sendEvent({ type: "finish" }))).toBeInstanceOf(InstanceFinishedError);
  expect(await instance.history()).toEqual(history);
  // Loaded again from SQLite, its snapshot and log, it says the same.
  await runInDurableObject(objectOf(id), (_object, state) => state.abort("reload")).catch(() => undefined);
  expect(await until(() => instance.status().then((s) => s, () => undefined), Boolean, "the object to come back")).toEqual(status);
  expect(await instance.history()).toEqual(history);
});

it("a context factory that makes a Date refuses the creation, and no instance is left", async () => {
  const error = await rejection(() => client().workflow("stamper").create({ id: "dated", params: { dated: true } }));
  expect(error).toBeInstanceOf(NotSerializableError);
  expect((error as Error).message).toMatch(/context\.when is a Date/);
  expect(await rejection(() => client().workflow("stamper").get("dated").then((instance) => instance.status()))).toBeInstanceOf(InstanceNotFoundError);
  // The id is free: the refusal wrote nothing.
  await client().workflow("stamper").create({ id: "dated" });
});
