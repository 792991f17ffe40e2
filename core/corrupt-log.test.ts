import { describe, expect, it } from "vitest";
import { setup } from "xstate";
import { foldCode } from "./code/fold";
import { defineWorkflow } from "./definition";
import { CorruptLogError } from "./errors";
import { fold } from "./fold";
import type { LogRecord } from "./records";

const created: LogRecord = { seq: 1, id: "01", at: 0, type: "instance.created", data: { workflow: "w", instanceId: "i", definitionHash: "h" } } as LogRecord;
const paused: LogRecord = { seq: 1, id: "02", at: 0, type: "instance.paused", data: {} } as LogRecord;
const machine = defineWorkflow({ name: "w", machine: setup({}).createMachine({ initial: "idle", states: { idle: {} } }) });

/** Both folds, each as recovery calls it. */
const folds: [string, (records: LogRecord[]) => unknown][] = [
  ["machine", (records) => fold(machine, records)],
  ["code-first", (records) => foldCode(records)],
];

describe.each(folds)("the %s fold refuses a log this engine could not have written with log.corrupt", (_, foldLog) => {
  const refusal = (records: LogRecord[]) => {
    try {
      foldLog(records);
    } catch (error) {
      return error;
    }
    throw new Error("the fold accepted the log");
  };

  it("an empty log", () => {
    const error = refusal([]);
    expect(error).toBeInstanceOf(CorruptLogError);
    expect(error).toMatchObject({ code: "log.corrupt", message: expect.stringContaining("The log is empty.") });
  });

  it("a log that does not start with instance.created", () => {
    expect(refusal([paused])).toMatchObject({ code: "log.corrupt", message: expect.stringContaining("starts with instance.paused at seq 1") });
  });

  it("a second instance.created", () => {
    expect(refusal([created, { ...created, seq: 2, id: "03" } as LogRecord])).toMatchObject({ code: "log.corrupt", message: expect.stringContaining("A second instance.created at seq 2") });
  });
});
