import { describe, expect, it } from "vitest";
import { parseRoute, routeUrl, type Route } from "../router";

describe("routes", () => {
  const routes: Route[] = [
    { view: "home" },
    { view: "workflow", workflow: "booking" },
    { view: "workflow", workflow: "booking", status: "waiting" },
    { view: "instance", workflow: "booking", id: "3f2a9c1e-7b7d-4c1a-9f7e-0c5d2b8a9a1b" },
    { view: "instance", workflow: "a b/c", id: "id?#%", step: "do:reserve seat-1", status: "errored" },
    { view: "instance", workflow: "gated", id: "x", step: "0.gated.a#1" },
    { view: "instance", workflow: "ticker", id: "long log", record: 1207 },
    { view: "instance", workflow: "ticker", id: "x", record: 1, status: "waiting" },
  ];

  it("reads back every route from its URL, names with any character included", () => {
    for (const route of routes) {
      const url = new URL(routeUrl(route), "http://localhost");
      expect(parseRoute(url.pathname, url.search)).toEqual(route);
    }
  });

  it("writes each view's path as the API's without /api", () => {
    expect(routeUrl({ view: "instance", workflow: "booking", id: "declined", step: "do:charge card-1" })).toBe("/workflows/booking/instances/declined/steps/do%3Acharge%20card-1");
    expect(routeUrl({ view: "workflow", workflow: "booking", status: "waiting" })).toBe("/workflows/booking?status=waiting");
  });

  it("names a log record by its seq, and opens the instance alone for a seq that is not a record's", () => {
    expect(routeUrl({ view: "instance", workflow: "ticker", id: "t", record: 42 })).toBe("/workflows/ticker/instances/t/records/42");
    for (const seq of ["0", "-1", "1.5", "abc", "01"]) expect(parseRoute(`/workflows/ticker/instances/t/records/${seq}`)).toEqual({ view: "instance", workflow: "ticker", id: "t" });
  });

  it("takes an unknown path for home", () => {
    expect(parseRoute("/elsewhere")).toEqual({ view: "home" });
    expect(parseRoute("/workflows")).toEqual({ view: "home" });
  });
});
