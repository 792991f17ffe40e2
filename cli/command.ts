import { parseArgs } from "node:util";
import { ApiClient } from "./api";
import { resolveConnection } from "./connection";
import { UsageError } from "./errors";
import type { CliIo } from "./io";

export interface OptionSpec {
  type: "string" | "boolean";
  short?: string;
  /** What the value is, in the help: `--params JSON`. */
  value?: string;
  description: string;
}

export interface PositionalSpec {
  name: string;
  optional?: true;
  description: string;
}

/** What a command runs with: its arguments by name, its options, and the API when it talks to one. */
export interface CommandContext {
  args: Record<string, string | undefined>;
  options: Record<string, string | boolean | undefined>;
  json: boolean;
  io: CliIo;
  api: ApiClient;
}

/** The positional every command about a workflow starts with. */
export const WORKFLOW: PositionalSpec = { name: "workflow", description: "the workflow's name" };
/** The positionals of a command about one instance. */
export const INSTANCE: readonly PositionalSpec[] = [WORKFLOW, { name: "id", description: "the instance's id" }];

export interface Command {
  name: string;
  summary: string;
  /** Further lines of help: what the command prints, examples. */
  details?: string;
  positionals: readonly PositionalSpec[];
  options: Readonly<Record<string, OptionSpec>>;
  /** False for `init`, which makes files instead of calling the API. */
  usesApi: boolean;
  run(context: CommandContext): Promise<void>;
}

const API_OPTIONS: Record<string, OptionSpec> = {
  url: { type: "string", value: "URL", description: "the Worker's address (default: DURABLE_MACHINES_URL, else http://127.0.0.1:8787)" },
  token: { type: "string", value: "TOKEN", description: "the API token (default: DURABLE_MACHINES_TOKEN, API_TOKEN, else API_TOKEN in ./.dev.vars)" },
  json: { type: "boolean", description: "print JSON for programs instead of tables" },
};

const HELP: Record<string, OptionSpec> = { help: { type: "boolean", short: "h", description: "show this help" } };

export function optionsOf(command: Command): Record<string, OptionSpec> {
  return { ...command.options, ...(command.usesApi ? API_OPTIONS : {}), ...HELP };
}

export function usageLine(command: Command): string {
  const positionals = command.positionals.map((p) => (p.optional ? `[${p.name}]` : `<${p.name}>`));
  return ["durable-machines", command.name, ...positionals, "[options]"].join(" ");
}

/** A command's --help: usage, what it does, its arguments and options. */
export function helpText(command: Command): string {
  const lines = [`Usage: ${usageLine(command)}`, "", command.summary];
  if (command.details) lines.push("", command.details);
  if (command.positionals.length) {
    lines.push("", "Arguments:");
    for (const p of command.positionals) lines.push(`  ${p.name.padEnd(22)}${p.description}`);
  }
  lines.push("", "Options:");
  for (const [name, spec] of Object.entries(optionsOf(command))) {
    const flag = `${spec.short ? `-${spec.short}, ` : ""}--${name}${spec.value ? ` ${spec.value}` : ""}`;
    lines.push(`  ${flag.padEnd(22)}${spec.description}`);
  }
  return lines.join("\n") + "\n";
}

/** The command line after the command's name, checked: unknown options, missing or extra arguments are usage errors. */
export function parseCommandLine(command: Command, argv: readonly string[]): { help: boolean; args: Record<string, string | undefined>; options: Record<string, string | boolean | undefined> } {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    const options = Object.fromEntries(Object.entries(optionsOf(command)).map(([name, spec]) => [name, { type: spec.type, ...(spec.short ? { short: spec.short } : {}) }]));
    parsed = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(`${(error as Error).message.replace(/\. To specify a positional argument.*$/s, ".")}`);
  }
  const options = parsed.values as Record<string, string | boolean | undefined>;
  if (options.help) return { help: true, args: {}, options };
  const given = parsed.positionals;
  const required = command.positionals.filter((p) => !p.optional);
  if (given.length < required.length) {
    const missing = required.slice(given.length).map((p) => `<${p.name}>`);
    throw new UsageError(`Missing ${missing.join(" and ")}: ${usageLine(command)}`);
  }
  if (given.length > command.positionals.length) {
    throw new UsageError(`Unexpected argument ${JSON.stringify(given[command.positionals.length])}: ${usageLine(command)}`);
  }
  const args = Object.fromEntries(command.positionals.map((p, i) => [p.name, given[i]]));
  return { help: false, args, options };
}

/** Parses an option's JSON value, naming the option when it is not JSON. */
export function jsonOption(name: string, text: string | boolean | undefined): unknown {
  if (typeof text !== "string") return undefined;
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UsageError(`--${name} is not JSON (${(error as Error).message}); quote it for the shell, e.g. --${name} '{"key":"value"}'.`);
  }
}

/** A whole-number option, at least `min`. */
export function integerOption(name: string, text: string | boolean | undefined, min: number): number | undefined {
  if (typeof text !== "string") return undefined;
  if (!/^\d+$/.test(text) || Number(text) < min) throw new UsageError(`--${name} must be a whole number of at least ${min}, not ${JSON.stringify(text)}.`);
  return Number(text);
}

/** The context a command runs with: its arguments and options, and the API at the URL and with the token they and the environment give. */
export function contextFor(command: Command, io: CliIo, args: CommandContext["args"], options: CommandContext["options"]): CommandContext {
  const connection = resolveConnection({ url: options.url as string | undefined, token: options.token as string | undefined }, io);
  return { args, options, json: options.json === true, io, api: new ApiClient(connection) };
}
