import type { CodeCommand } from "../core/code/decide";
import type { CodeSession } from "../core/code/session";
import type { InstanceHooks, StepIdentity } from "./test-hooks";

/** The call a command will make, keyed as the kernel will key it: Cloudflare's `<kind>:<name>-<n>`. */
function nextCall(session: CodeSession, kind: "do" | "sleep" | "waitForEvent", name: string): StepIdentity {
  const count = (session.counts.get(`${kind}:${name}`) ?? 0) + 1;
  return { key: `${kind}:${name}-${count}`, name, count };
}

/**
 * A call of run()'s as a test changed it: a skipped sleep lasts 0 ms, a wait the test times out has a 0 ms timeout,
 * and a step whose retry delays are off waits 0 ms between attempts. Its log records say so; the wake that takes
 * them up comes at once (DriverShell.armWake).
 */
export function modifiedCall(session: CodeSession, command: CodeCommand, hooks: InstanceHooks): CodeCommand {
  switch (command.type) {
    case "sleep":
    case "sleep.until": {
      const step = nextCall(session, "sleep", command.name);
      hooks.sawStep(step);
      return hooks.skipsSleep(step) ? { type: "sleep", pass: command.pass, name: command.name, ms: 0 } : command;
    }
    case "wait": {
      const step = nextCall(session, "waitForEvent", command.name);
      hooks.sawStep(step);
      return hooks.timesOutWait(step) ? { ...command, timeoutMs: 0 } : command;
    }
    case "step.call": {
      const step = nextCall(session, "do", command.name);
      if (!hooks.skipsRetryDelay(step)) return command;
      return { ...command, call: { ...command.call, policy: { ...command.call.policy, delayMs: 0 } } };
    }
    default:
      return command;
  }
}
