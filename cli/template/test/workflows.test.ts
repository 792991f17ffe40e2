import { env } from "cloudflare:workers";
import { expect, it } from "vitest";
import worker, { workflows } from "../src/index";

/** Reads until `done` holds: instances run in their own Durable Objects, so the test waits for them. */
async function until<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  for (let i = 0; i < 1500; i++) {
    const value = await read();
    if (done(value)) return value;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error("gave up waiting");
}

it("greets, waits for approval, and completes once approved", async () => {
  const instance = await workflows.client(env).workflow("greeting").create({ params: { name: "Ada" } });
  await until(() => instance.status(), (s) => s.value === "awaitingApproval");
  await instance.sendEvent({ type: "approve", payload: { by: "Grace" } });
  const status = await until(() => instance.status(), (s) => s.status === "complete");
  expect(status.output).toEqual({ greeting: "Hello, Ada!", approvedBy: "Grace" });
});

it("signs up through the Worker's route and completes, as the HTTP API reports", async () => {
  const started = await worker.fetch(new Request("http://localhost/signup", { method: "POST", body: JSON.stringify({ email: "ada@example.com" }) }), env);
  const { id } = await started.json<{ id: string }>();
  const read = () =>
    worker.fetch(new Request(`http://localhost/api/workflows/signup/instances/${id}`, { headers: { authorization: `Bearer ${env.API_TOKEN}` } }), env).then((r) => r.json<{ status: string; output?: unknown }>());
  const status = await until(read, (s) => s.status === "complete");
  expect(status.output).toEqual({ accountId: "account-ada", welcome: "welcome sent to ada@example.com" });
});
