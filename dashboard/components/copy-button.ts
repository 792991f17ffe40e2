import { fill, h } from "../dom";
import { icon } from "./icons";

/** How long a copy button says "Copied". */
const SAID_MS = 1_500;

/** A small button that copies `text()` to the clipboard and says so; `compact` shows an icon, for table rows. */
export function copyButton(what: string, text: () => string, compact = false): HTMLButtonElement {
  const label = () => (compact ? icon("copy") : "Copy");
  const button = h("button", { type: "button", class: `copy small${compact ? " compact" : ""}`, title: `Copy ${what}`, "aria-label": `Copy ${what}` }, label());
  button.addEventListener("click", async (event) => {
    event.stopPropagation();
    try {
      await navigator.clipboard.writeText(text());
      fill(button, compact ? icon("copied") : "Copied");
    } catch {
      fill(button, "Copy failed");
    }
    setTimeout(() => fill(button, label()), SAID_MS);
  });
  return button;
}
