import { describe, expect, it } from "vitest";
import { setup } from "xstate";
import { defineWorkflow, InvalidScheduleError, WorkflowEntrypoint, type AnyWorkflowDefinition } from "../index";
import { firesOn, scheduledInstanceId } from "./schedule";

const machine = () => setup({}).createMachine({ id: "m", initial: "done", states: { done: { type: "final" } } });

class Noop extends WorkflowEntrypoint {
  async run() {
    return null;
  }
}

const kinds: [string, (schedules: unknown) => AnyWorkflowDefinition][] = [
  ["a machine", (schedules) => defineWorkflow({ name: "m", machine: machine(), schedules: schedules as string[] })],
  ["a code-first workflow", (schedules) => defineWorkflow({ name: "c", entrypoint: Noop, schedules: schedules as string[] })],
];

describe.each(kinds)("schedules on %s", (_kind, define) => {
  it("takes a list of cron expressions, or one as a string, and none by default", () => {
    expect(define(["*/5 * * * *", "0 3 * * MON"]).schedules).toEqual(["*/5 * * * *", "0 3 * * MON"]);
    expect(define("0 3 * * *").schedules).toEqual(["0 3 * * *"]);
    expect(define(undefined).schedules).toEqual([]);
  });

  it.each([
    [["*/5 * * *"], 'has 4 fields'],
    [["*/5 * * * *", "0 25 * * *"], 'the hour field "25"'],
    [5, "schedules must be a cron string or a list of them"],
    [[null], "not object"],
  ])("refuses %j at definition time, with a typed error naming the problem", (schedules, problem) => {
    let caught: unknown;
    try {
      define(schedules);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(InvalidScheduleError);
    expect((caught as InvalidScheduleError).code).toBe("schedule.invalid");
    expect((caught as InvalidScheduleError).message).toContain(problem);
  });

  it("keeps the schedules out of the pinned hash: adding one does not strand running instances", () => {
    expect(define(["*/5 * * * *"]).hash).toBe(define(undefined).hash);
  });
});

describe("firings", () => {
  it("match a schedule whatever its spacing and case", () => {
    expect(firesOn(["0 17 * * sun"], "0  17 * * SUN")).toBe(true);
    expect(firesOn(["0 17 * * sun"], "0 18 * * sun")).toBe(false);
  });

  it("name their instance after the workflow, the cron and the time, so a repeat delivery names the same one", () => {
    const id = scheduledInstanceId("report", { cron: "*/5 * * * *", scheduledTime: 1_800_000_000_000 });
    expect(id).toMatch(/^cron-[0-9a-f]{14}-1800000000000$/);
    expect(scheduledInstanceId("report", { cron: "*/5  *  * * *", scheduledTime: 1_800_000_000_000 })).toBe(id);
    expect(scheduledInstanceId("report", { cron: "*/5 * * * *", scheduledTime: 1_800_000_300_000 })).not.toBe(id);
    expect(scheduledInstanceId("report", { cron: "0 * * * *", scheduledTime: 1_800_000_000_000 })).not.toBe(id);
    expect(scheduledInstanceId("other", { cron: "*/5 * * * *", scheduledTime: 1_800_000_000_000 })).not.toBe(id);
  });
});
