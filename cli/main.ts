import { contextFor, helpText, parseCommandLine, type Command } from "./command";
import { describe } from "./commands/describe";
import { history } from "./commands/history";
import { init } from "./commands/init";
import { pause, restart, resume, terminate } from "./commands/lifecycle";
import { list } from "./commands/list";
import { sendEvent } from "./commands/send-event";
import { subscribe } from "./commands/subscribe";
import { trigger } from "./commands/trigger";
import { ApiFailure, UnreachableError, UsageError } from "./errors";
import type { CliIo } from "./io";

export const COMMANDS: readonly Command[] = [init, list, describe, trigger, sendEvent, pause, resume, terminate, restart, history, subscribe];

function overview(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length)) + 2;
  return [
    "Usage: durable-machines <command> [arguments] [options]",
    "",
    "Scaffolds a Worker that uses durable-machines, and drives a running one through its HTTP API, as `wrangler workflows` does for Cloudflare Workflows.",
    "",
    "Commands:",
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    "",
    "Run `durable-machines <command> --help` for a command's arguments and options.",
    "Exit codes: 0 done, 1 the API refused (its code and message printed) or could not be reached, 2 a usage error.",
    "",
  ].join("\n");
}

/** Options that take a value, which may come before the command's name as `--url URL`. */
const VALUED = new Set(["--url", "--token"]);

/**
 * The command's name, wherever it stands among the options
 * (`durable-machines --url http://… list` as `list --url http://…`), and
 * the rest of the line in order.
 */
function splitCommand(argv: readonly string[]): { name: string | undefined; rest: string[] } {
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]!;
    if (VALUED.has(token)) i++;
    else if (!token.startsWith("-")) return { name: token, rest: [...argv.slice(0, i), ...argv.slice(i + 1)] };
  }
  return { name: undefined, rest: [...argv] };
}

/**
 * Runs one command line and returns the exit code: 0 done, 1 an API error
 * (its code and message on stderr) or no server, 2 a usage error (the
 * command's usage on stderr).
 */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const { name, rest } = splitCommand(argv);
  const onlyHelp = rest.every((token) => token === "--help" || token === "-h");
  if ((name === undefined && onlyHelp) || name === "help") {
    const command = name === "help" ? COMMANDS.find((c) => c.name === rest[0]) : undefined;
    io.out(command ? helpText(command) : overview());
    return 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  try {
    if (name === undefined) throw new UsageError("No command given.");
    if (!command) throw new UsageError(`Unknown command ${JSON.stringify(name)}. The commands: ${COMMANDS.map((c) => c.name).join(", ")}.`);
    const { help, args, options } = parseCommandLine(command, rest);
    if (help) {
      io.out(helpText(command));
      return 0;
    }
    await command.run(contextFor(command, io, args, options));
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`${error.message}\n${command ? `Run \`durable-machines ${command.name} --help\` for its options.` : "Run `durable-machines --help` for the commands."}\n`);
      return error.exitCode;
    }
    if (error instanceof ApiFailure) {
      io.err(`error ${error.code}: ${error.message}\n`);
      return error.exitCode;
    }
    if (error instanceof UnreachableError) {
      io.err(`error: ${error.message}\n`);
      return error.exitCode;
    }
    throw error;
  }
}
