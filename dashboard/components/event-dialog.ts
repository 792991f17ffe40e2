import { byId } from "../dom";
import { parseJsonField } from "./confirm";

/**
 * The page's send-event dialog, as a row opens it: the event's type and its
 * payload as JSON. A payload that is not JSON (or a missing type) is refused
 * in the dialog and nothing is sent; a refusal from the API is shown there
 * too, and the dialog closes only once `send` succeeded. Resolves to the
 * type of the event sent, or undefined when none was.
 */
export function sendEventDialog(id: string, send: (type: string, payload: unknown) => Promise<unknown>): Promise<string | undefined> {
  const dialog = byId("event-dialog", HTMLDialogElement);
  const type = byId("event-dialog-type", HTMLInputElement);
  const payload = byId("event-dialog-payload", HTMLTextAreaElement);
  const error = byId("event-dialog-error", HTMLElement);
  const submit = byId("event-dialog-send", HTMLButtonElement);
  byId("event-dialog-to", HTMLElement).textContent = id;
  error.textContent = "";
  return new Promise((resolve) => {
    let sent: string | undefined;
    const onSubmit = async (event: Event) => {
      event.preventDefault();
      error.textContent = "";
      try {
        if (!type.value.trim()) throw new Error("Give the event's type.");
        const parsed = parseJsonField(payload.value, "The payload");
        submit.disabled = true;
        await send(type.value.trim(), parsed);
        sent = type.value.trim();
        dialog.close();
      } catch (failure) {
        error.textContent = failure instanceof Error ? failure.message : String(failure);
      } finally {
        submit.disabled = false;
      }
    };
    const onCancel = () => dialog.close();
    submit.addEventListener("click", onSubmit);
    byId("event-dialog-cancel", HTMLButtonElement).addEventListener("click", onCancel);
    dialog.addEventListener(
      "close",
      () => {
        submit.removeEventListener("click", onSubmit);
        byId("event-dialog-cancel", HTMLButtonElement).removeEventListener("click", onCancel);
        resolve(sent);
      },
      { once: true },
    );
    dialog.showModal();
    type.focus();
  });
}
