/**
 * Every view has a URL, so a reload keeps it, a link opens it and the back
 * button returns from it: the paths mirror the API's, without `/api`.
 *
 *   /                                                 the first workflow
 *   /workflows/{name}?status=waiting                  a workflow's instances
 *   /workflows/{name}/instances/{id}                  one instance
 *   /workflows/{name}/instances/{id}/steps/{key}      one instance, a step opened
 *   /workflows/{name}/instances/{id}/records/{seq}    one instance, a record of its log shown
 */
export type Route =
  | { view: "home" }
  | { view: "workflow"; workflow: string; status?: string }
  | { view: "instance"; workflow: string; id: string; step?: string; record?: number; status?: string };

const segment = encodeURIComponent;

/** The route a location names; an unknown path is home. */
export function parseRoute(pathname: string, search = ""): Route {
  const parts = pathname.split("/").filter(Boolean).map(decodeURIComponent);
  const status = new URLSearchParams(search).get("status") || undefined;
  const filter = status === undefined ? {} : { status };
  if (parts[0] !== "workflows" || parts[1] === undefined) return { view: "home" };
  const workflow = parts[1];
  if (parts[2] !== "instances" || parts[3] === undefined) return { view: "workflow", workflow, ...filter };
  const step = parts[4] === "steps" && parts[5] !== undefined ? { step: parts[5] } : {};
  // A record is named by its seq, a whole number from 1; anything else opens the instance alone.
  const record = parts[4] === "records" && /^[1-9]\d*$/.test(parts[5] ?? "") ? { record: Number(parts[5]) } : {};
  return { view: "instance", workflow, id: parts[3], ...step, ...record, ...filter };
}

/** The URL of a route (path and query). */
export function routeUrl(route: Route): string {
  if (route.view === "home") return "/";
  const query = route.status ? `?status=${segment(route.status)}` : "";
  const workflow = `/workflows/${segment(route.workflow)}`;
  if (route.view === "workflow") return workflow + query;
  const instance = `${workflow}/instances/${segment(route.id)}`;
  if (route.step !== undefined) return `${instance}/steps/${segment(route.step)}${query}`;
  return (route.record === undefined ? instance : `${instance}/records/${route.record}`) + query;
}

/** Pushes a route onto the history (or replaces the current entry) and shows it. */
export function navigate(route: Route, show: (route: Route) => void, replace = false): void {
  const url = routeUrl(route);
  if (url !== location.pathname + location.search) {
    if (replace) history.replaceState(null, "", url);
    else history.pushState(null, "", url);
  }
  show(route);
}

/** The route of the page's location now. */
export const currentRoute = (): Route => parseRoute(location.pathname, location.search);
