import { env } from "cloudflare:workers";
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { expect, it } from "vitest";
import { workflows } from "./worker";
import { until } from "./until";
import { skipAhead } from "./skew-clock";

const client = () => workflows.client(env);
const objectOf = (id: string) => client().stub("gated", id) as unknown as DurableObjectStub;

type CloseHandler = (socket: WebSocket, code: number, reason: string, wasClean: boolean) => Promise<void>;

/** Wraps the object's own webSocketClose to see what it did when the runtime told it of a close. */
async function watchCloses(id: string): Promise<{ code: number; threw?: string }[]> {
  const closes: { code: number; threw?: string }[] = [];
  await runInDurableObject(objectOf(id), (object) => {
    const target = object as unknown as { webSocketClose: CloseHandler };
    const handler = target.webSocketClose.bind(object);
    target.webSocketClose = async (socket, code, reason, wasClean) => {
      try {
        await handler(socket, code, reason, wasClean);
        closes.push({ code });
      } catch (error) {
        closes.push({ code, threw: String(error) });
        throw error;
      }
    };
  });
  return closes;
}

it("a client that drops its inspection socket without a close frame (1006): nothing throws, the object sends no reserved code, and the instance carries on", async () => {
  const id = "dropped-socket";
  const wait = 60_000;
  const instance = await client().workflow("gated").create({ id, params: { instance: id, wait } });
  await until(() => instance.status(), (s) => s.value === "sleeping", "the durable sleep");
  const closes = await watchCloses(id);

  // The client lives in another object, which is then aborted: its socket drops without a close frame.
  const holder = env.RUN_LEDGER.get(env.RUN_LEDGER.idFromName("socket-holder")) as unknown as DurableObjectStub;
  await runInDurableObject(holder, async () => {
    const object = env.WORKFLOW_INSTANCES.get(env.WORKFLOW_INSTANCES.idFromName(`gated/${id}`));
    const response = await object.fetch(`http://object/inspect?instance=gated&instance=${id}`, { headers: { Upgrade: "websocket" } });
    expect(response.status).toBe(101);
    response.webSocket!.accept();
  });
  await runInDurableObject(holder, (_object, state) => state.abort("the client goes away")).catch(() => undefined);
  await until(async () => closes.length, (n) => n > 0, "the object to hear of the drop");
  expect(closes).toEqual([{ code: 1006 }]);

  // The instance carries on: its sleep ends through the alarm, it takes an event and completes.
  skipAhead(wait);
  await until(() => runDurableObjectAlarm(objectOf(id)).then(() => instance.status()), (s) => s.value === "approval", "the sleep to end through the alarm");
  await instance.sendEvent({ type: "approve", payload: id });
  expect((await until(() => instance.status(), (s) => s.status === "complete", "completion")).output).toEqual({ results: ["a done", "b done", "c done"], approval: id });
});

it("a client that closes without a code (1005) is answered with a normal closure, and one that closes with 1001 with its own code", async () => {
  const id = "closed-sockets";
  const instance = await client().workflow("gated").create({ id, params: { instance: id, wait: 60_000 } });
  await until(() => instance.status(), (s) => s.value === "sleeping", "the durable sleep");
  const closes = await watchCloses(id);
  const answers: number[] = [];
  for (const close of [(socket: WebSocket) => socket.close(), (socket: WebSocket) => socket.close(1001, "going away")]) {
    const response = await objectOf(id).fetch(`http://object/inspect?instance=gated&instance=${id}`, { headers: { Upgrade: "websocket" } });
    const socket = response.webSocket!;
    socket.addEventListener("close", (event) => void answers.push(event.code));
    socket.accept();
    close(socket);
  }
  await until(async () => [closes.length, answers.length], ([heard, answered]) => heard === 2 && answered === 2, "both closes answered");
  expect(closes).toEqual([{ code: 1005 }, { code: 1001 }]);
  expect(answers).toEqual([1000, 1001]);
});
