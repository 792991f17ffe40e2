import { chromium, type Browser } from "playwright-core";

/** Debian's chromium (or CHROMIUM_PATH's), headless, with nothing that reaches the network on its own: every e2e file's browser. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}
