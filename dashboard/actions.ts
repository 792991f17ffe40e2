import type { InstanceStatusName } from "../core/status";
import type { Api } from "./api";
import { confirmAction } from "./components/confirm";

export const ACTIONS = ["pause", "resume", "terminate", "restart", "delete"] as const;
export type Action = (typeof ACTIONS)[number];

const FINISHED: readonly InstanceStatusName[] = ["complete", "errored", "terminated"];
export const isFinished = (status: InstanceStatusName) => FINISHED.includes(status);

/** Which actions make sense for a status (the API refuses terminate and restart otherwise); none while the status is unknown. */
export function allowed(action: Action, status: InstanceStatusName | undefined): boolean {
  if (status === undefined) return false;
  if (action === "pause") return !isFinished(status) && status !== "paused";
  if (action === "resume") return status === "paused" || status === "waitingForPause";
  if (action === "terminate") return !isFinished(status);
  return true;
}

/** How each action is labelled on the instance page ("…" when it asks first); the compact rows show its icon (components/icons.ts). */
export const ACTION_LABELS: Record<Action, string> = {
  pause: "Pause",
  resume: "Resume",
  terminate: "Terminate…",
  restart: "Restart…",
  delete: "Delete…",
};

/** Runs an action on an instance, asking first where it cannot be undone; resolves to whether it was done. */
export async function runAction(api: Api, workflow: string, id: string, action: Action): Promise<boolean> {
  switch (action) {
    case "pause":
    case "resume":
      await api.lifecycle(workflow, id, action);
      return true;
    case "terminate": {
      const answer = await confirmAction(`Terminate ${id}?`, "The instance stops for good; its log is kept.", true);
      if (answer.ok) await api.lifecycle(workflow, id, "terminate", { rollback: answer.rollback });
      return answer.ok;
    }
    case "restart": {
      const answer = await confirmAction(`Restart ${id}?`, "The instance runs again from the start with the same params; its log keeps the earlier run.");
      if (answer.ok) await api.lifecycle(workflow, id, "restart");
      return answer.ok;
    }
    case "delete": {
      const answer = await confirmAction(`Delete ${id}?`, "The instance and its whole log are wiped; the id can be used again.");
      if (answer.ok) await api.remove(workflow, id);
      return answer.ok;
    }
  }
}
