import { byId } from "../dom";

export interface Answer {
  ok: boolean;
  rollback: boolean;
}

/** The confirm dialog of the page: resolves to whether the user agreed, and whether they asked for rollback handlers to run first. */
export function confirmAction(title: string, text: string, offerRollback = false): Promise<Answer> {
  const dialog = byId("confirm", HTMLDialogElement);
  const rollback = byId("confirm-rollback", HTMLInputElement);
  byId("confirm-title", HTMLElement).textContent = title;
  byId("confirm-text", HTMLElement).textContent = text;
  byId("confirm-rollback-label", HTMLElement).hidden = !offerRollback;
  rollback.checked = false;
  dialog.returnValue = "";
  dialog.showModal();
  return new Promise((resolve) => dialog.addEventListener("close", () => resolve({ ok: dialog.returnValue === "ok", rollback: rollback.checked }), { once: true }));
}

/** Parses a JSON field, or throws an error that names the field and what is wrong with it; empty is undefined. */
export function parseJsonField(text: string, what: string): unknown {
  if (!text.trim()) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new Error(`${what} are not valid JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
}
