import { byId } from "../dom";

/**
 * What the page tells the user: a line for what was done, and an error
 * panel that is there only while there is an error, cleared by the next
 * action so an old failure never sits beside a new success.
 */
export class Notices {
  private readonly message = byId("message", HTMLElement);
  private readonly panel = byId("error-panel", HTMLElement);
  private readonly text = byId("error-text", HTMLElement);

  constructor() {
    byId("error-dismiss", HTMLButtonElement).addEventListener("click", () => this.clear());
  }

  /** Says what was done. */
  say(text: string): void {
    this.message.textContent = text;
  }

  /** Shows an error until the next action. */
  fail(error: unknown): void {
    this.text.textContent = error instanceof Error ? error.message : String(error);
    this.panel.hidden = false;
  }

  /** A new action starts: earlier words and errors go. */
  clear(): void {
    this.message.textContent = "";
    this.panel.hidden = true;
    this.text.textContent = "";
  }
}
