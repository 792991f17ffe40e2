import { apiPath } from "../api";
import { INSTANCE, jsonOption, type Command, type CommandContext, type OptionSpec } from "../command";
import type { StatusAnswer } from "../wire";
import { printStatus } from "./status-line";

/** A command that posts to one of an instance's lifecycle routes and prints what the instance became. */
function lifecycle(action: "pause" | "resume" | "terminate" | "restart", done: string, summary: string, options: Record<string, OptionSpec>, body: (context: CommandContext) => object, details?: string): Command {
  return {
    name: action,
    summary,
    ...(details ? { details } : {}),
    positionals: INSTANCE,
    options,
    usesApi: true,
    async run(context) {
      const { workflow, id } = context.args;
      const answer = await context.api.call<StatusAnswer>("POST", apiPath(["workflows", workflow!, "instances", id!, action]), body(context));
      printStatus(context, workflow!, done, answer);
    },
  };
}

/** `--from` is a step key as `describe` and `history` show it, or Cloudflare's `{ name, count?, type? }` as JSON. */
function restartFrom(text: string | boolean | undefined): unknown {
  if (typeof text !== "string") return undefined;
  return text.trimStart().startsWith("{") ? jsonOption("from", text) : text;
}

export const pause = lifecycle("pause", "Paused", "Pauses an instance once the steps under way are done; paused time does not count against timers.", {}, () => ({}));

export const resume = lifecycle("resume", "Resumed", "Resumes a paused instance.", {}, () => ({}));

export const terminate = lifecycle(
  "terminate",
  "Terminated",
  "Terminates an instance.",
  { rollback: { type: "boolean", description: "run the started steps' rollback handlers or compensations first" } },
  ({ options }) => (options.rollback ? { rollback: true } : {}),
);

export const restart = lifecycle(
  "restart",
  "Restarted",
  "Restarts an instance from the start, or from a step (the steps before it keep their results).",
  { from: { type: "string", value: "STEP", description: "a step's key as `describe` shows it, or '{\"name\":\"charge\",\"count\":1}'" } },
  ({ options }) => {
    const from = restartFrom(options.from);
    return from === undefined ? {} : { from };
  },
  ["  durable-machines restart order order-17", "  durable-machines restart order order-17 --from 'do:charge-1'"].join("\n"),
);
