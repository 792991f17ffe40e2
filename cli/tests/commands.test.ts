import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer as createHttpServer } from "node:http";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { TOKEN } from "../../adapters/worker/api/tests/api-host";
import { COMMANDS } from "../main";
import { runCli, startApiServer, type ApiServer } from "./api-server";

let server: ApiServer;
beforeEach(async () => {
  server = await startApiServer();
});
afterEach(() => server.close());

const cli = (...argv: string[]) => runCli(server, argv);

/** Runs the CLI and expects it to succeed, returning what it printed. */
async function ok(...argv: string[]): Promise<string> {
  const run = await cli(...argv);
  expect(run, run.err).toMatchObject({ code: 0, err: "" });
  return run.out;
}

/** A gate instance settled where it waits for `approve`. */
async function waitingGate(id: string): Promise<void> {
  await ok("trigger", "gate", "--id", id);
  await server.settle();
}

describe("list", () => {
  it("lists the workflows with their counts, as a table and as JSON", async () => {
    await waitingGate("g1");
    expect(await ok("list")).toBe(
      [
        "WORKFLOW  INSTANCES  RUNNING  WAITING  PAUSED  ERRORED  TERMINATED  COMPLETE",
        "gate      1          0        1        0       0        0           0",
        "booking   0          0        0        0       0        0           0",
        "pipeline  0          0        0        0       0        0           0",
        "",
      ].join("\n"),
    );
    const json = JSON.parse(await ok("list", "--json"));
    expect(json.workflows.map((w: { name: string }) => w.name)).toEqual(["gate", "booking", "pipeline"]);
    expect(json.workflows[0].counts).toMatchObject({ waiting: 1, running: 0, complete: 0 });
  });

  it("lists a workflow's instances with relative times, filters by status, pages with --cursor", async () => {
    await waitingGate("g1");
    server.clock.advance(65_000);
    await waitingGate("g2");
    await ok("send-event", "gate", "g2", "approve");
    await server.settle();
    expect(await ok("list", "gate")).toBe(["ID  STATUS    CREATED    UPDATED", "g2  complete  just now   just now", "g1  waiting   1m 5s ago  1m 5s ago", ""].join("\n"));
    expect(await ok("list", "gate", "--status", "complete")).toMatch(/^ID +STATUS +CREATED +UPDATED\ng2 +complete/);
    const first = await ok("list", "gate", "--limit", "1");
    const cursor = /add --cursor (\S+)/.exec(first)?.[1];
    expect(first).toMatch(/^ID.*\ng2 /);
    expect(cursor).toBeDefined();
    expect(await ok("list", "gate", "--limit", "1", "--cursor", cursor!)).toMatch(/^ID.*\ng1 +waiting +1m 5s ago +1m 5s ago\n$/);
    const oldest = await ok("list", "gate", "--limit", "1", "--order", "oldest");
    expect(oldest).toMatch(/^ID.*\ng1 .*\nMore instances follow: add --cursor (\S+) --order oldest\n$/);
    const json = JSON.parse(await ok("list", "gate", "--json"));
    expect(json.instances.map((i: { id: string; status: string }) => [i.id, i.status])).toEqual([["g2", "complete"], ["g1", "waiting"]]);
    expect(await ok("list", "booking")).toBe("No instances of booking yet; start one with: durable-machines trigger booking\n");
    expect(await ok("list", "gate", "--status", "errored")).toBe("No instances of gate with status errored\n");
  });

  it("cuts long ids in the middle to fit the terminal, keeping their start and end", async () => {
    const id = `order-${"x".repeat(80)}-0042`;
    await waitingGate(id);
    const run = await runCli(server, ["list", "gate"], { columns: 50 });
    const lines = run.out.trimEnd().split("\n");
    for (const line of lines) expect([...line].length).toBeLessThanOrEqual(50);
    expect(lines[1]).toMatch(/^order-x+…x*-0042 +waiting +just now +just now$/);
    // Piped (no terminal width), every character stays.
    expect((await runCli(server, ["list", "gate"], { columns: Number.POSITIVE_INFINITY })).out).toContain(id);
  });

  it("refuses instance filters without a workflow, as a usage error", async () => {
    const run = await cli("list", "--status", "complete");
    expect(run.code).toBe(2);
    expect(run.err).toMatch(/--status lists one workflow's instances/);
  });
});

describe("describe", () => {
  it("describes a workflow: its instances per status", async () => {
    await waitingGate("g1");
    const out = await ok("describe", "gate");
    expect(out).toMatch(/^Workflow {3}gate\nInstances {2}1\n\nSTATUS +COUNT\nqueued +0\n/);
    expect(out).toMatch(/\nwaiting +1\n/);
    expect(JSON.parse(await ok("describe", "gate", "--json"))).toMatchObject({ name: "gate", counts: { waiting: 1 } });
  });

  it("describes an instance: its status, state, output and each step's key, state, attempts and result", async () => {
    await waitingGate("g1");
    server.clock.advance(3_000);
    await ok("send-event", "gate", "g1", "approve", "--payload", '{"by":"ada"}');
    await server.settle();
    expect(await ok("describe", "gate", "g1")).toBe(
      [
        "Instance  g1 (gate)",
        "Status    complete",
        'State     "done"',
        'Output    {"approval":{"by":"ada"}}',
        "",
        "STEP                KIND   STATE      ATTEMPTS  STARTED   TOOK  RESULT",
        '0.gate.preparing#1  step   succeeded  1         3s ago    0ms   "prepared"',
        'approve#1           event  succeeded  0         just now  0ms   {"by":"ada"}',
        "",
      ].join("\n"),
    );
    const json = JSON.parse(await ok("describe", "gate", "g1", "--json"));
    expect(json).toMatchObject({ id: "g1", status: "complete", value: "done", output: { approval: { by: "ada" } } });
    expect(json.steps.map((s: { key: string }) => s.key)).toEqual(["0.gate.preparing#1", "approve#1"]);
  });

  it("shows a failed step's error and a code-first instance's steps", async () => {
    await ok("trigger", "booking", "--id", "b1");
    await server.settle();
    const out = await ok("describe", "booking", "b1");
    expect(out).toMatch(/^Instance {2}b1 \(booking\)\nStatus {4}waiting\n/);
    // The booking's seat reservation fails once and waits for its retry.
    expect(out).toMatch(/\ndo:reserve seat-1 +do +running +1 +just now +- +Error: /);
  });
});

describe("the lifecycle commands print what the instance became", () => {
  it("trigger, send-event, pause, resume, terminate and restart --from", async () => {
    expect(await ok("trigger", "gate", "--id", "g1", "--params", '{"n":1}')).toBe('Started gate/g1; it is running at "preparing"\n');
    await server.settle();
    expect(await ok("pause", "gate", "g1")).toBe('Paused gate/g1; it is paused at "approval"\n');
    expect(await ok("resume", "gate", "g1")).toBe('Resumed gate/g1; it is waiting at "approval"\n');
    expect(await ok("terminate", "gate", "g1")).toBe('Terminated gate/g1; it is terminated at "approval"\n');
    expect(await ok("restart", "gate", "g1", "--from", "0.gate.preparing#1")).toBe('Restarted gate/g1; it is running at "preparing"\n');
    await server.settle();
    expect(await ok("send-event", "gate", "g1", "approve", "--payload", '{"by":"ada"}', "--idempotency-key", "k1")).toBe('Sent approve to gate/g1; it is complete, output {"approval":{"by":"ada"}}\n');
    const history = JSON.parse(await ok("history", "gate", "g1", "--json")).records as { type: string; data: { idempotencyKey?: string } }[];
    expect(history.find((r) => r.type === "event.received")?.data.idempotencyKey).toBe("k1");
  });

  it("--json prints the instance's status as the API answers it", async () => {
    expect(JSON.parse(await ok("trigger", "gate", "--id", "g1", "--json"))).toEqual({ id: "g1", status: "running", value: "preparing" });
    await server.settle();
    expect(JSON.parse(await ok("terminate", "gate", "g1", "--rollback", "--json"))).toEqual({ id: "g1", status: "terminated", value: "approval" });
  });

  it("trigger without --id gets an id from the engine; restart --from takes Cloudflare's { name, count } as JSON", async () => {
    const created = JSON.parse(await ok("trigger", "booking", "--json"));
    expect(created.id).toMatch(/^[0-9a-f-]{36}$/);
    await server.settle();
    await ok("terminate", "booking", created.id);
    expect(JSON.parse(await ok("restart", "booking", created.id, "--from", '{"name":"mint token"}', "--json")).status).toBe("running");
  });
});

describe("history", () => {
  it("prints the whole log as a table, or one page with --after and --limit", async () => {
    await waitingGate("g1");
    server.clock.advance(10_000);
    await ok("send-event", "gate", "g1", "approve");
    await server.settle();
    const table = (await ok("history", "gate", "g1")).split("\n");
    expect(table[0]).toMatch(/^SEQ +WHEN +TYPE +DATA$/);
    expect(table.slice(1, -1).map((line) => line.split(/ {2,}/).slice(0, 3))).toEqual([
      ["1", "10s ago", "instance.created"],
      ["2", "10s ago", "step.started"],
      ["3", "10s ago", "step.succeeded"],
      ["4", "just now", "event.received"],
      ["5", "just now", "instance.completed"],
    ]);
    const page = await ok("history", "gate", "g1", "--limit", "2");
    expect(page).toMatch(/\n2 +10s ago +step\.started .*\nMore records follow: add --after 2\n$/);
    const rest = JSON.parse(await ok("history", "gate", "g1", "--after", "2", "--json"));
    expect(rest.records.map((r: { seq: number }) => r.seq)).toEqual([3, 4, 5]);
    expect(rest.next).toBeUndefined();
  });

  it("refuses a --limit that is not a positive whole number", async () => {
    const run = await cli("history", "gate", "g1", "--limit", "0");
    expect(run).toMatchObject({ code: 2, out: "" });
    expect(run.err).toMatch(/--limit must be a whole number of at least 1, not "0"/);
  });
});

describe("subscribe", () => {
  it("prints events as they come, and ends with the run", async () => {
    await waitingGate("g1");
    let seen = "";
    const running = runCli(server, ["subscribe", "gate", "g1"], { onOut: (out) => (seen = out) });
    // The events so far arrive while the instance still waits; the approval's come live.
    await until(() => seen.includes("step_completed"));
    expect(seen).not.toContain("workflow_completed");
    await ok("send-event", "gate", "g1", "approve");
    const run = await running;
    expect(run.code).toBe(0);
    const lines = run.out.trimEnd().split("\n");
    expect(lines[0]).toBe("#1    just now   workflow_queued");
    expect(lines.map((line) => line.split(/ +/)[3])).toEqual(["workflow_queued", "workflow_started", "workflow_running", "step_started", "attempt_started", "attempt_completed", "step_completed", "workflow_completed"]);
    expect(lines.at(-1)).toBe('#8    just now   workflow_completed  {"output":{"approval":null}}');
  });

  it("--json prints one event per line; --cursor and --filter narrow them; a finished instance with nothing after the cursor says so", async () => {
    await waitingGate("g1");
    await ok("send-event", "gate", "g1", "approve");
    await server.settle();
    const events = (await ok("subscribe", "gate", "g1", "--json", "--cursor", "5")).trimEnd().split("\n").map((line) => JSON.parse(line));
    expect(events.map((e) => [e.eventId, e.type])).toEqual([[6, "attempt_completed"], [7, "step_completed"], [8, "workflow_completed"]]);
    const filtered = (await ok("subscribe", "gate", "g1", "--json", "--filter", "step_completed,workflow_completed")).trimEnd().split("\n");
    expect(filtered.map((line) => JSON.parse(line).type)).toEqual(["step_completed", "workflow_completed"]);
    expect(await ok("subscribe", "gate", "g1", "--cursor", "8")).toBe("gate/g1 has finished, and no event follows the cursor.\n");
    expect(await ok("subscribe", "gate", "g1", "--cursor", "8", "--json")).toBe("");
  });
});

describe("errors and exit codes", () => {
  it("prints an API refusal's code and message and exits 1", async () => {
    expect(await cli("trigger", "nope")).toMatchObject({ code: 1, out: "", err: expect.stringMatching(/^error workflow\.not_found: .*nope/) });
    expect(await cli("describe", "gate", "missing")).toMatchObject({ code: 1, err: expect.stringMatching(/^error instance\.not_found: /) });
    await waitingGate("g1");
    expect(await cli("trigger", "gate", "--id", "g1")).toMatchObject({ code: 1, err: expect.stringMatching(/^error instance\.already_exists: /) });
    expect(await cli("resume", "gate", "g1")).toMatchObject({ code: 1, err: expect.stringMatching(/^error instance\.cannot_resume: /) });
    expect(await cli("restart", "gate", "g1", "--from", "nowhere#1")).toMatchObject({ code: 1, err: expect.stringMatching(/^error instance\.cannot_restart: /) });
    expect(await cli("subscribe", "gate", "g1", "--cursor", "x")).toMatchObject({ code: 1, err: expect.stringMatching(/^error subscription\.invalid: /) });
  });

  it("exits 2 on a usage error: an unknown command or option, a missing or extra argument, JSON that is not", async () => {
    const usage = [
      [["nope"], /^Unknown command "nope"\. The commands: init, list, /],
      [["trigger"], /^Missing <workflow>: durable-machines trigger <workflow> \[options\]\nRun `durable-machines trigger --help`/],
      [["send-event", "gate", "g1"], /^Missing <type>: /],
      [["pause", "gate", "g1", "extra"], /^Unexpected argument "extra": durable-machines pause <workflow> <id>/],
      [["list", "--bogus"], /^Unknown option '--bogus'\./],
      [["trigger", "gate", "--params", "{x"], /^--params is not JSON \(.*\); quote it for the shell/],
      [["send-event", "gate", "g1", "go", "--payload", "nope"], /^--payload is not JSON/],
      [["trigger", "gate", "--id"], /--id/],
      [["--json"], /^No command given\.\nRun `durable-machines --help` for the commands\./],
    ] as const;
    for (const [argv, message] of usage) {
      const run = await cli(...argv);
      expect(run.code, argv.join(" ")).toBe(2);
      expect(run.out).toBe("");
      expect(run.err).toMatch(message);
    }
  });

  it("says where the token came from when the API refuses it, and how to give one when there was none", async () => {
    const wrong = await runCli(server, ["list", "--token", "wrong"]);
    expect(wrong).toMatchObject({ code: 1, err: expect.stringMatching(/^error auth\.invalid: .*\(the token came from --token\)\n$/) });
    const none = await runCli(server, ["list"], { env: { DURABLE_MACHINES_URL: server.url }, cwd: tmpdir() });
    expect(none).toMatchObject({ code: 1, err: expect.stringMatching(/^error auth\.invalid: .*pass --token, set DURABLE_MACHINES_TOKEN or API_TOKEN/) });
  });

  it("exits 1 naming the URL when nothing listens there", async () => {
    const port = await closedPort();
    const run = await cli("list", "--url", `http://127.0.0.1:${port}`);
    expect(run).toMatchObject({ code: 1, out: "" });
    expect(run.err).toMatch(new RegExp(`^error: Could not reach http://127\\.0\\.0\\.1:${port} \\(.*\\)\\. Is the Worker running`));
  });

  it("exits 1 when the URL answers but is not the API", async () => {
    const other = createHttpServer((req, res) => {
      res.writeHead(req.url === "/api/workflows" ? 200 : 404, { "content-type": "text/html" });
      res.end("<html>a page</html>");
    });
    await new Promise<void>((resolve) => other.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(other.address() as { port: number }).port}`;
    try {
      expect(await cli("list", "--url", url)).toMatchObject({ code: 1, err: expect.stringMatching(/^error http\.200: .* answered 200 with something other than JSON: is --url the Worker serving durable-machines\? <html>/) });
      expect(await cli("describe", "gate", "--url", url)).toMatchObject({ code: 1, err: expect.stringMatching(/^error http\.404: .* answered 404 Not Found without an API error/) });
    } finally {
      await new Promise<void>((resolve) => other.close(() => resolve()));
    }
  });
});

describe("where the URL and token come from", () => {
  it("takes the token from API_TOKEN, or from .dev.vars in the current folder, and the URL from --url", async () => {
    const env = { API_TOKEN: TOKEN };
    expect(await runCli(server, ["list", "--url", server.url], { env })).toMatchObject({ code: 0 });
    const project = mkdtempSync(join(tmpdir(), "dm-cli-"));
    try {
      writeFileSync(join(project, ".dev.vars"), `# local secrets\nOTHER=1\nAPI_TOKEN="${TOKEN}"\n`);
      expect(await runCli(server, ["list", "--url", server.url], { env: {}, cwd: project })).toMatchObject({ code: 0 });
      // DURABLE_MACHINES_TOKEN comes before .dev.vars: a wrong one is refused.
      expect(await runCli(server, ["list", "--url", server.url], { env: { DURABLE_MACHINES_TOKEN: "wrong" }, cwd: project })).toMatchObject({ code: 1, err: expect.stringContaining("came from DURABLE_MACHINES_TOKEN") });
    } finally {
      rmSync(project, { recursive: true, force: true });
    }
  });
});

describe("--help", () => {
  it("every command has its help, naming its arguments and options, and exits 0", async () => {
    for (const command of COMMANDS) {
      const out = await ok(command.name, "--help");
      expect(out).toMatch(new RegExp(`^Usage: durable-machines ${command.name} `));
      for (const p of command.positionals) expect(out).toContain(`  ${p.name} `);
      for (const option of Object.keys(command.options)) expect(out).toContain(`--${option}`);
      if (command.usesApi) expect(out).toContain("--json");
      expect(await ok("help", command.name)).toBe(out);
    }
    // Options may come before the command's name, as wrangler allows.
    expect(JSON.parse(await ok("--url", server.url, "--json", "list")).workflows).toHaveLength(3);
    const overview = await ok("--help");
    for (const command of COMMANDS) expect(overview).toContain(`  ${command.name} `);
    expect(await ok()).toBe(overview);
  });
});

/** Waits for `done` on the event loop's turns, not on a clock. */
async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 10_000 && !done(); i++) await new Promise((resolve) => setImmediate(resolve));
  expect(done()).toBe(true);
}

/** A port nothing listens on: one just freed by a server of ours. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as { port: number };
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}
