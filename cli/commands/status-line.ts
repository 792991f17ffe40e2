import type { CommandContext } from "../command";
import { compact } from "../format";
import type { StatusAnswer } from "../wire";

/** What a command that changed an instance prints: a sentence, or with --json the instance's status as the API answered it. */
export function printStatus({ io, json }: CommandContext, workflow: string, done: string, answer: StatusAnswer): void {
  if (json) return io.out(`${JSON.stringify(answer, null, 2)}\n`);
  const where = answer.status === "complete" ? `, output ${compact(answer.output)}` : answer.error ? `: ${answer.error.name}: ${answer.error.message}` : ` at ${compact(answer.value)}`;
  io.out(`${done} ${workflow}/${answer.id}; it is ${answer.status}${where}\n`);
}
