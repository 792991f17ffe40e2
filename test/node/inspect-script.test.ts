import { createServer } from "node:net";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startApiServer, type ApiServer } from "../../cli/tests/api-server";
import { TOKEN } from "../../adapters/worker/api/tests/api-host";
import { freePort, runInspect } from "./inspect-script";

/**
 * `npm run inspect`'s failures, each one line that says what to do, against
 * the API over the memory host served on a port (which has no inspect
 * socket: that the relay exits when the instance ends is tested against
 * workerd in inspect.test.ts).
 */
let server: ApiServer;

beforeAll(async () => {
  server = await startApiServer();
  for (const id of ["g1", "done-1"]) expect((await server.post("/api/workflows/gate/instances", { id })).status).toBe(201);
  await server.settle();
  expect((await server.post("/api/workflows/gate/instances/done-1/events", { type: "approve" })).status).toBe(202);
  await server.settle();
  expect((await server.get("/api/workflows/gate/instances/done-1")).body.status).toBe("complete");
});

afterAll(() => server?.close());

/** Runs the relay to its end, expecting it to fail with one line on stderr that holds every one of `says`. */
async function failsWith(args: string[], ...says: string[]) {
  const { code, out, err } = await runInspect(args).exited;
  expect(code, err).toBe(1);
  expect(err.trim().split("\n"), err).toHaveLength(1);
  for (const words of says) expect(err).toContain(words);
  return out;
}

it("says it cannot connect, and how to start the Worker, when nothing answers at --url", async () => {
  const out = await failsWith(["gate", "g1", "--url", `http://127.0.0.1:${await freePort()}`, "--token", TOKEN], "Cannot connect", "ECONNREFUSED", "npm start", "--url");
  expect(out, "nothing is announced before the instance is found").toBe("");
});

it("says the token was refused, and where the right one comes from, on a 401", async () => {
  await failsWith(["gate", "g1", "--url", server.url, "--token", "wrong"], "refused the token", "401 auth.invalid", "--token", "API_TOKEN");
});

it("says which instance it did not find on a 404", async () => {
  await failsWith(["gate", "nope", "--url", server.url, "--token", TOKEN], "has no instance nope of workflow gate", "404 instance.not_found");
  await failsWith(["nothing", "g1", "--url", server.url, "--token", TOKEN], "has no instance g1 of workflow nothing", "404 workflow.not_found");
});

it("says an instance that has already ended has nothing live to relay, and points at the dashboard", async () => {
  await failsWith(["gate", "done-1", "--url", server.url, "--token", TOKEN], "already ended (complete)", `${server.url}/`);
});

it("says the inspector server's port is taken", async () => {
  const taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, resolve));
  const { port } = taken.address() as { port: number };
  try {
    await failsWith(["gate", "g1", "--url", server.url, "--token", TOKEN, "--port", String(port)], `Port ${port} is taken`, "--port");
  } finally {
    taken.close();
  }
});

it("says the Stately inspector is an online page, then exits when the socket cannot open (the memory host serves none)", async () => {
  const out = await failsWith(["gate", "g1", "--url", server.url, "--token", TOKEN, "--port", String(await freePort())], "inspect socket", "did not open");
  expect(out).toContain("The Stately inspector is an online page, https://stately.ai/inspect");
  expect(out).toContain(`open the dashboard the Worker serves: ${server.url}/`);
});
