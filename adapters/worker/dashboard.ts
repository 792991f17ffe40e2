import { DASHBOARD_CSS, DASHBOARD_HTML, DASHBOARD_JS } from "../../dashboard/generated/assets";

/**
 * The local dashboard, served by every Worker made with createWorkflows: the
 * typed app in dashboard/, built by scripts/build-dashboard.ts into one page,
 * one script and one stylesheet, embedded here so nothing is fetched from
 * the network at run time. The page answers `/` and every view's URL under
 * `/workflows/` (a reload or a shared link opens that view).
 */

/**
 * What the page may load and who may frame it: its own script, stylesheet
 * and API (fetch and the inspect socket) and nothing else, nothing inline,
 * no frame around it. The page holds the API token and a "Delete all"
 * button, so another site must not run script in it or frame it to trick a
 * click.
 */
export const DASHBOARD_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const SECURITY_HEADERS = {
  "content-security-policy": DASHBOARD_CSP,
  "x-frame-options": "DENY",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
};

const PAGE = { body: DASHBOARD_HTML, type: "text/html; charset=utf-8" };
const FILES = new Map([
  ["/", PAGE],
  ["/dashboard.js", { body: DASHBOARD_JS, type: "text/javascript; charset=utf-8" }],
  ["/dashboard.css", { body: DASHBOARD_CSS, type: "text/css; charset=utf-8" }],
]);

/** The dashboard's views, whose URLs the app reads (dashboard/router.ts): a workflow, an instance, one of its steps, one of its log's records by seq. */
const VIEW = /^\/workflows\/[^/]+(\/instances\/[^/]+(\/steps\/[^/]+|\/records\/[1-9]\d*)?)?\/?$/;

/**
 * The dashboard's answer for a path (the page, its script, its stylesheet,
 * or the page again for a view's URL), with the security headers above, or
 * undefined when the path is not the dashboard's.
 */
export function serveDashboard(path: string): Response | undefined {
  const file = FILES.get(path) ?? (VIEW.test(path) ? PAGE : undefined);
  if (!file) return undefined;
  return new Response(file.body, { headers: { "content-type": file.type, ...SECURITY_HEADERS } });
}
