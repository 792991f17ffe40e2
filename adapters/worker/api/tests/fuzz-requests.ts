import fc from "fast-check";
import { expect } from "vitest";
import { MAX_PAYLOAD_BYTES } from "../../../../core/json";
import { pathPattern, refusals, type Endpoint } from "../endpoint";
import { ERROR_STATUS, type ErrorCode } from "../error-codes";
import { TOKEN, WORKER_TOKEN } from "./api-host";

/**
 * The route fuzz, for any host: what a request is made of (generated
 * methods, paths with valid and hostile segments, queries, headers and
 * bodies, with values nested and sized at the limits) and how its answer is
 * judged. Whatever arrives: no 5xx; every error is JSON with a code the table
 * knows, under the table's status, and one its route documents; and a
 * refused request leaves every instance's log byte for byte as it was.
 * fuzz.test.ts runs it through `app.request()` against the memory host in
 * Node; test/api-fuzz.test.ts through the test Worker's fetch against the
 * Durable Object host in workerd.
 */

export const SEED = 20261207;

/** The instances every run starts from, and the names requests use for them. */
export interface FuzzWorld {
  /** [workflow, id] of each instance at rest that runs start from; the first names the workflow and the id most requests use. */
  instances: readonly (readonly [workflow: string, id: string])[];
  /** The ids batch deletes name: some of the instances and one that does not exist. */
  deletable: readonly string[];
  /** The workflow Python serves, where the host has the worker routes: recipes claim one of its instances, then use the lease. */
  python?: string;
}

// ---------------------------------------------------------------- what a request is made of

const HOSTILE = ["constructor", "__proto__", "toString", "hasOwnProperty", "prototype", "..", ".", "%2e%2e", "%2F", "a%2Fb", "%00", "%E0%A4%A", "%", "%ZZ", "a b", "é", "%C3%A9", "-x", "batch", "delete", "events", "", "x".repeat(101), "y".repeat(5000)];
const segment = (valid: readonly string[]) => fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...valid) }, { weight: 2, arbitrary: fc.constantFrom(...HOSTILE) }, { weight: 1, arbitrary: fc.string({ maxLength: 12 }).map(encodeURIComponent) });

const METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "PURGE"];

/** "valid" is the route's own token (the API's, or the Python workers' on theirs); "otherRealm" the other one, which must not open it. */
export type Auth = "valid" | "missing" | "scheme" | "wrong" | "empty" | "long" | "query" | "queryWrong" | "otherRealm";
const auth = fc.oneof({ weight: 12, arbitrary: fc.constant<Auth>("valid") }, { weight: 1, arbitrary: fc.constantFrom<Auth>("missing", "scheme", "wrong", "empty", "long", "query", "queryWrong", "otherRealm") });

const QUERY_KEYS = ["limit", "after", "cursor", "status", "order", "filter", "token", "ticket", "x", "__proto__", "constructor"];
const QUERY_VALUES = ["", "0", "1", "2", "5", "007", "1000", "1001", "10000", "10001", "0x10", "1e3", " 5", "+5", "-1", "1.5", "٥", "99999999999999999999", "complete", "waiting", "constructor", "step_completed", "step_completed,nope", "g-wait", "newest", "oldest", "oldest:1000000:g-wait", "newest:0:-x", "z".repeat(300)];
const query = fc.array(fc.tuple(fc.constantFrom(...QUERY_KEYS), fc.oneof(fc.constantFrom(...QUERY_VALUES), fc.string({ maxLength: 8 }))), { maxLength: 4 });

const HEADERS: [string, string][] = [
  ["content-type", "application/json"],
  ["content-type", "text/plain"],
  ["content-type", "application/x-www-form-urlencoded"],
  ["content-type", "multipart/form-data; boundary=x"],
  ["content-length", "20"],
  ["content-length", String(9 * 1024 * 1024)],
  ["last-event-id", "3"],
  ["last-event-id", ""],
  ["last-event-id", "-1"],
  ["upgrade", "websocket"],
  ["accept", "text/event-stream"],
];
const headers = fc.uniqueArray(fc.constantFrom(...HEADERS), { maxLength: 3, selector: ([name]) => name });

/** A value whose toString is not a function, and keys named after Object.prototype's members. */
const HOSTILE_VALUES: unknown[] = [{ toString: 1 }, { toString: null, valueOf: 1 }, { __proto__: { a: 1 } }, { constructor: { prototype: 1 } }, [{ toString: 1 }], null, true, 1e308, -1, 2 ** 53, 1.5, "", "x".repeat(300)];

/**
 * A value at the limits workerd is hostile to: arrays nested around the
 * 100-level bound (a body nests one level deeper than the payload in it; a
 * depth-3,000 payload once broke an instance's event stream for good), or a
 * string whose JSON takes just under, exactly or just over the 1 MiB payload
 * limit, in one- or two-byte characters.
 */
type Heavy = { nested: number } | { bytes: number; char: "x" | "é" };

const heavy: fc.Arbitrary<Heavy> = fc.oneof(
  fc.constantFrom(98, 99, 100, 101, 3000).map((nested) => ({ nested })),
  fc.record({ bytes: fc.constantFrom(MAX_PAYLOAD_BYTES - 64, MAX_PAYLOAD_BYTES, MAX_PAYLOAD_BYTES + 1), char: fc.constantFrom<"x" | "é">("x", "é") }),
);

/** The JSON text of a heavy value. */
function heavyText(value: Heavy): string {
  if ("nested" in value) return `${"[".repeat(value.nested)}${"]".repeat(value.nested)}`;
  const width = value.char === "x" ? 1 : 2;
  const chars = Math.floor((value.bytes - 2) / width);
  return `"${value.char.repeat(chars)}${"x".repeat(value.bytes - 2 - chars * width)}"`;
}

/** A heavy value as it stands in a body: JSON.stringify writes it out whole, while a counterexample shows its description. */
class HeavyJson {
  constructor(readonly heavy: Heavy) {}
  toJSON(): unknown {
    return JSON.parse(heavyText(this.heavy));
  }
  [fc.toStringMethod](): string {
    return `heavy(${JSON.stringify(this.heavy)})`;
  }
}

/** The heavy value a body carries, if any: as a whole, as a field, or in a batch's instances. */
function heavyIn(value: unknown, levels = 3): Heavy | undefined {
  if (value instanceof HeavyJson) return value.heavy;
  if (levels === 0 || typeof value !== "object" || value === null) return undefined;
  for (const item of Object.values(value)) {
    const found = heavyIn(item, levels - 1);
    if (found) return found;
  }
  return undefined;
}

const hostile = fc.constantFrom(...HOSTILE_VALUES);
const heavyJson = heavy.map((value) => new HeavyJson(value));
const json = fc.oneof({ weight: 3, arbitrary: fc.jsonValue({ maxDepth: 3 }) }, { weight: 1, arbitrary: hostile }, { weight: 1, arbitrary: heavyJson });
const count = fc.oneof(fc.integer({ min: -2, max: 102 }), fc.constantFrom(1_000_000_000, 2 ** 32, 2 ** 53, 1e308, 0.5), hostile);
/** Step keys as the history shows them (a machine's invoke, a code-first step) and Cloudflare's { name, count, type }. */
const fromValue = fc.oneof(
  fc.constantFrom("0.gate.preparing#1", "do:mint token-1", "nope", ""),
  fc.record(
    {
      name: fc.oneof(fc.constantFrom("mint token", "cool down", "nope"), hostile),
      count: fc.oneof(fc.integer({ min: -1, max: 3 }), hostile),
      type: fc.oneof(fc.constantFrom("do", "sleep", "waitForEvent", "nope"), hostile),
    },
    { requiredKeys: ["name"] },
  ),
  hostile,
);

/** Stands for the lease and the instance of the task a recipe claimed first, as a counterexample shows them. */
export const CLAIMED = "<claimed>";

/**
 * Python worker bodies: mostly well formed, protocol 1, under the claimed lease, with calls of every type; then
 * other versions, stale leases, over-long names, too many calls, unknown call types. A wait is 0 or out of bounds,
 * never positive: on the runs' manual clock a long poll would wait for ever.
 */
const protocolVersion = fc.oneof({ weight: 8, arbitrary: fc.constant<unknown>(1) }, { weight: 1, arbitrary: fc.constantFrom<unknown>(2, 0, "1", null) });
const leaseToken = fc.oneof({ weight: 6, arbitrary: fc.constant(CLAIMED) }, { weight: 1, arbitrary: fc.constantFrom("0.1.stale", "", "l".repeat(257)) }, { weight: 1, arbitrary: hostile });
const waitMs = fc.oneof({ weight: 3, arbitrary: fc.constant<unknown>(0) }, { weight: 1, arbitrary: fc.constantFrom<unknown>(-1, 25_001, 1e308, "0", null) });
const stepName = fc.oneof({ weight: 6, arbitrary: fc.constantFrom("rows", "stats", "constructor") }, { weight: 1, arbitrary: fc.constantFrom("n".repeat(300), "n".repeat(1025), "", "a\u0000b") }, { weight: 1, arbitrary: hostile });
const stepKey = fc.constantFrom("do:rows-1", "do:stats-1", "sleep:nap-1", "do:missing-1", "");
const errorInfo = fc.oneof({ weight: 4, arbitrary: fc.record({ name: fc.constantFrom("Error", "TypeError"), message: fc.constantFrom("503", "m".repeat(8193)), nonRetryable: fc.boolean() }, { requiredKeys: ["name", "message"] }) }, { weight: 1, arbitrary: hostile });
const wireValue = fc.oneof({ weight: 4, arbitrary: fc.record({ json }) }, { weight: 1, arbitrary: fc.constantFrom<unknown>({ json: "2026-12-07T10:00:00.000Z", meta: { values: ["Date"], v: 1 } }, { json: [], meta: { values: ["map"] } }) }, { weight: 1, arbitrary: hostile });
const attemptNumber = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(1, 2) }, { weight: 1, arbitrary: fc.constantFrom<unknown>(0, 1.5, -1, "1") });
const pythonCall: fc.Arbitrary<unknown> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record(
      {
        type: fc.constant("step"),
        name: stepName,
        config: fc.constantFrom<unknown>({ retries: { limit: 1, delay: 1000, backoff: "constant" } }, { retries: { delay: { function: true } } }, { timeout: "nope" }, 7),
        // The first attempt's outcome, run before the call: numbered right, wrong or not at all.
        done: fc.oneof(
          { weight: 3, arbitrary: fc.record({ count: fc.constantFrom<unknown>(1, 2, 0, 1.5), ok: fc.constant(true), value: wireValue }, { requiredKeys: ["count", "ok"] }) },
          { weight: 1, arbitrary: fc.record({ count: fc.constant(1), ok: fc.constant(false), error: errorInfo }) },
          { weight: 1, arbitrary: hostile },
        ),
      },
      { requiredKeys: ["type", "name"] },
    ),
  },
  { weight: 3, arbitrary: fc.record({ type: fc.constant("result"), key: stepKey, attempt: attemptNumber, ok: fc.constant(true), value: wireValue }, { requiredKeys: ["type", "key", "attempt", "ok"] }) },
  { weight: 2, arbitrary: fc.record({ type: fc.constant("result"), key: stepKey, attempt: attemptNumber, ok: fc.constant(false), error: errorInfo, delay: fc.constantFrom<unknown>({ ms: 10 }, { error: { name: "E", message: "m" } }) }, { requiredKeys: ["type", "key", "attempt", "ok", "error"] }) },
  { weight: 2, arbitrary: fc.record({ type: fc.constant("sleep"), name: stepName, ms: fc.constantFrom<unknown>(5000, 0, -1, "5 s") }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant("sleepUntil"), name: stepName, at: fc.constantFrom<unknown>(2_000_000, 0) }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant("wait"), name: stepName, eventType: fc.constantFrom("approve", "xstate.init", "e".repeat(1025)), timeoutMs: fc.constantFrom(1000, -5) }, { requiredKeys: ["type", "name", "eventType"] }) },
  { weight: 2, arbitrary: fc.record({ type: fc.constant("completed"), output: fc.oneof(wireValue, heavyJson.map((value) => ({ json: value }))) }, { requiredKeys: ["type"] }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant("failed"), error: errorInfo }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant("rollbackResult"), key: stepKey, attempt: attemptNumber }) },
  { weight: 1, arbitrary: fc.oneof(fc.constantFrom<unknown>({ type: "launch" }, { type: "__proto__" }, {}), hostile) },
);
const pythonCalls = fc.oneof({ weight: 8, arbitrary: fc.array(pythonCall, { minLength: 1, maxLength: 3 }) }, { weight: 1, arbitrary: fc.constantFrom<unknown>([], Array.from({ length: 1001 }, () => ({ type: "sleep", name: "nap", ms: 5000 }))) }, { weight: 1, arbitrary: hostile });
const PYTHON_BODIES: Record<string, fc.Arbitrary<unknown>> = {
  "/api/python/v1/workflows/{workflow}/claim": fc.record({ protocol: protocolVersion, worker: fc.oneof({ weight: 6, arbitrary: fc.constant("fuzz/pid-1") }, { weight: 1, arbitrary: fc.constantFrom("", "w".repeat(257)) }, { weight: 1, arbitrary: hostile }), waitMs }, { requiredKeys: ["protocol", "worker"] }),
  "/api/python/v1/workflows/{workflow}/instances/{id}/calls": fc.record({ protocol: protocolVersion, lease: leaseToken, calls: pythonCalls }, { requiredKeys: ["protocol", "lease", "calls"] }),
  "/api/python/v1/workflows/{workflow}/instances/{id}/heartbeat": fc.record({ protocol: protocolVersion, lease: leaseToken, waitMs }, { requiredKeys: ["protocol", "lease"] }),
  "/api/python/v1/workflows/{workflow}/instances/{id}/release": fc.record({ protocol: protocolVersion, lease: leaseToken }, { requiredKeys: ["protocol", "lease"] }),
};
/** The worker routes that take a lease: most of their recipes claim a task first. */
const LEASED_ROUTES = new Set(Object.keys(PYTHON_BODIES).filter((path) => path.includes("{id}")));

/** The shapes a body takes: valid ones for each route, then everything a route should refuse. */
export type Body = { json: unknown } | { text: string } | { deep: number } | { big: number } | { bytes: readonly number[] };

export interface Recipe {
  /** First claim a task of the world's Python workflow, then send this under its lease, to its instance (CLAIMED stands for both). */
  claimFirst?: true;
  method: string;
  /** An endpoint's path template, or a path no endpoint has. */
  template: string;
  name: string;
  id: string;
  query: [string, string][];
  auth: Auth;
  headers: [string, string][];
  body: Body | undefined;
}

/** What a world's requests are drawn from: recipes of a run, and how to make, route and show a request. */
export interface FuzzRequests {
  /** The requests of one run: one to three. */
  recipes: fc.Arbitrary<Recipe[]>;
  /** The endpoint Hono routes a path and method to, if any. */
  routeOf(method: string, pathname: string): Endpoint | undefined | "other-method";
}

/** The requests of a world: paths name its workflows and instances most often, then anything. */
export function fuzzRequests(world: FuzzWorld, endpoints: readonly Endpoint[]): FuzzRequests {
  const workflows = [...new Set(world.instances.map(([workflow]) => workflow))];
  const ids = world.instances.map(([, id]) => id);
  const [main] = workflows;
  const id = fc.oneof(fc.constantFrom(...ids, "fresh-1", "fresh-2", "constructor", "-bad", ""), hostile);
  const freshOrTaken = fc.constantFrom("fresh-1", "fresh-2", ids[0]!);

  /** Valid shapes for each route, hostile values in them, and bodies every route should refuse: not JSON, too deep, too big, not UTF-8. */
  const body: fc.Arbitrary<Body | undefined> = fc.oneof(
    { weight: 4, arbitrary: fc.constant(undefined) },
    { weight: 4, arbitrary: fc.record({ id: id, params: json }, { requiredKeys: [] }).map((create) => ({ json: create })) },
    {
      weight: 4,
      arbitrary: fc
        .record({ type: fc.oneof(fc.constantFrom("approve", "go", "xstate.init", ""), hostile), payload: json, idempotencyKey: fc.oneof(fc.constantFrom("k", "constructor", "__proto__", ""), hostile) }, { requiredKeys: [] })
        .map((event) => ({ json: event })),
    },
    { weight: 4, arbitrary: fc.record({ count, params: json }, { requiredKeys: ["count"] }).map((batch) => ({ json: batch })) },
    { weight: 4, arbitrary: fc.record({ instances: fc.oneof(fc.array(fc.record({ id, params: json }, { requiredKeys: [] }), { maxLength: 4 }), hostile) }).map((batch) => ({ json: batch })) },
    { weight: 4, arbitrary: fc.record({ ids: fc.oneof(fc.array(id, { maxLength: 4 }), hostile) }).map((batch) => ({ json: batch })) },
    { weight: 4, arbitrary: fc.record({ from: fromValue }).map((restart) => ({ json: restart })) },
    { weight: 4, arbitrary: fc.record({ rollback: fc.oneof(fc.boolean(), hostile) }).map((terminate) => ({ json: terminate })) },
    {
      weight: 4,
      arbitrary: fc
        .record({ retention: fc.oneof(fc.record({ successRetention: fc.oneof(fc.constantFrom(1, "1 day", 0, "forever"), hostile) }), hostile), locationHint: fc.oneof(fc.constantFrom("weur", "mars"), hostile) }, { requiredKeys: [] })
        .map((options) => ({ json: options })),
    },
    { weight: 4, arbitrary: json.map((value) => ({ json: value })) },
    { weight: 4, arbitrary: fc.constantFrom("{", "[]", "null", '"x"', "{}{}", "", "   ", '{"__proto__":{"type":"approve"},"type":"approve"}', '{"type":"approve","constructor":1}').map((text) => ({ text })) },
    { weight: 2, arbitrary: fc.constantFrom(99, 100, 101, 3000, 3500).map((deep) => ({ deep })) },
    { weight: 1, arbitrary: fc.constant({ bytes: [0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d] }) },
    // Rare, as they are slow to make: just over the body limit, and just over the batch limit.
    { weight: 1, arbitrary: fc.constantFrom(1024 * 1024 + 64 * 1024 + 1, 8 * 1024 * 1024 + 1).map((big) => ({ big })) },
  );

  const templates = [...new Set(endpoints.map((spec) => spec.path)), "/api", "/api/nothing", "/api/workflows/{name}/instances/{id}/cancel", "/api/workflows/{name}/{id}", "/api/workflows/{name}/instances/{id}/events/{id}"];

  /**
   * A route's own body, well formed more often than not, so that runs get
   * past the validators as well as into them; where a route stores a value,
   * a heavy one a third of the time.
   */
  function bodyFor(template: string): fc.Arbitrary<Body | undefined> {
    const orHeavy = <T>(plain: fc.Arbitrary<T>, heavy: fc.Arbitrary<T>) => fc.oneof({ weight: 2, arbitrary: plain }, { weight: 1, arbitrary: heavy });
    const own: Record<string, fc.Arbitrary<unknown>> = {
      "/api/workflows/{name}/instances": orHeavy(fc.record({ id: freshOrTaken, params: json }, { requiredKeys: [] }), fc.record({ id: freshOrTaken, params: heavyJson })),
      "/api/workflows/{name}/instances/batch": orHeavy(
        fc.oneof(
          fc.record({ count: fc.integer({ min: 1, max: 3 }), params: json }),
          fc.record({ instances: fc.array(fc.record({ id: freshOrTaken }, { requiredKeys: [] }), { minLength: 1, maxLength: 3 }) }),
        ),
        fc.record({ count: fc.integer({ min: 1, max: 2 }), params: heavyJson }),
      ),
      "/api/workflows/{name}/instances/batch/delete": fc.record({ ids: fc.array(fc.constantFrom(...world.deletable), { minLength: 1, maxLength: 3 }) }),
      "/api/workflows/{name}/instances/{id}/pause": fc.constant({}),
      "/api/workflows/{name}/instances/{id}/resume": fc.constant({}),
      "/api/workflows/{name}/instances/{id}/terminate": fc.record({ rollback: fc.boolean() }, { requiredKeys: [] }),
      "/api/workflows/{name}/instances/{id}/restart": fc.record({ from: fc.constantFrom("0.gate.preparing#1", "do:mint token-1") }, { requiredKeys: [] }),
      "/api/workflows/{name}/instances/{id}/events": orHeavy(
        fc.record({ type: fc.constantFrom("approve", "go"), payload: json, idempotencyKey: fc.constantFrom("k1", "constructor") }, { requiredKeys: ["type"] }),
        fc.record({ type: fc.constantFrom("approve", "go"), payload: heavyJson }),
      ),
      // A ticket for an instance's event stream or socket, another route, or a path that is not one.
      "/api/tickets": fc.record({
        path: fc.oneof(
          { weight: 4, arbitrary: fc.constantFrom(...world.instances.flatMap(([workflow, id]) => ["events", "inspect"].map((route) => `/api/workflows/${workflow}/instances/${id}/${route}`))) },
          { weight: 1, arbitrary: fc.constantFrom("/api/workflows", "/api/tickets", "//evil.example/api/workflows/a/instances/b/events", "/api/workflows/a/instances/b/events?x=1", "") },
          { weight: 1, arbitrary: hostile },
        ),
      }),
      ...PYTHON_BODIES,
    };
    const mine = own[template];
    // A worker route's body is its own more often still: most generic bodies lack its protocol and lease.
    const weight = PYTHON_BODIES[template] ? 6 : 3;
    return mine ? fc.oneof({ weight, arbitrary: mine.map((value) => ({ json: value })) }, { weight: 2, arbitrary: body }) : body;
  }

  /** Path segments: an instance that exists under its workflow most often, then anything. */
  const address = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...world.instances.map(([workflow, id]) => [workflow, id] as [string, string]), [main!, "missing"], [main!, "batch"]) },
    { weight: 2, arbitrary: fc.tuple(segment(workflows), segment([...ids, "missing", "batch"])) },
  );

  /** The methods a template's endpoints take (GET for a path no endpoint has). */
  const methodsOf = (template: string) => {
    const methods = endpoints.filter((spec) => spec.path === template).map((spec) => spec.method.toUpperCase());
    return methods.length ? methods : ["GET"];
  };

  /** The routes that store what a body carries (params, an event's payload) are drawn twice as often, so that heavy values reach the engine. */
  const STORING = new Set(["/api/workflows/{name}/instances", "/api/workflows/{name}/instances/batch", "/api/workflows/{name}/instances/{id}/events"]);
  /** So are the worker routes that take a lease: a request under a live lease needs a claim first and a well-formed body. */
  const template = fc.oneof(...templates.map((path) => ({ weight: STORING.has(path) || LEASED_ROUTES.has(path) ? 2 : 1, arbitrary: fc.constant(path) })));

  /** Where the world serves Python, a leased route's recipe most often claims a task first and goes to its instance. */
  const claimFirst = (template: string) => (world.python && LEASED_ROUTES.has(template) ? fc.oneof({ weight: 1, arbitrary: fc.constant(false) }, { weight: 3, arbitrary: fc.constant(true) }) : fc.constant(false));

  /** The time-travel route answers only for a seq the log has: its `after` is one of the first records most often, then anything. */
  const STATE_ROUTE = "/api/workflows/{name}/instances/{id}/state";
  const stateQuery = fc.oneof({ weight: 3, arbitrary: fc.constantFrom("1", "2", "3", "4").map((after): [string, string][] => [["after", after]]) }, { weight: 1, arbitrary: query });
  const queryFor = (template: string) => (template === STATE_ROUTE ? stateQuery : query);

  const recipe: fc.Arbitrary<Recipe> = template.chain((template) =>
    fc
      .record({
        method: fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...methodsOf(template)) }, { weight: 1, arbitrary: fc.constantFrom(...METHODS) }),
        address,
        query: queryFor(template),
        auth,
        headers,
        body: bodyFor(template),
        claimFirst: claimFirst(template),
      })
      .map(({ address: [name, id], claimFirst, ...rest }): Recipe => (claimFirst ? { claimFirst, ...rest, template, name: world.python!, id: CLAIMED } : { ...rest, template, name, id })),
  );

  return {
    recipes: fc.array(recipe, { minLength: 1, maxLength: 3 }),
    routeOf(method, pathname) {
      const matches = endpoints.filter((spec) => pathPattern(spec).test(pathname));
      const routed = method === "HEAD" ? "GET" : method;
      return matches.find((spec) => spec.method.toUpperCase() === routed) ?? (matches.length ? "other-method" : undefined);
    },
  };
}

// ---------------------------------------------------------------- making and judging a request

function bodyText(recipe: Body, claimed: Claimed | undefined): string | Uint8Array {
  if ("json" in recipe) {
    // The lease is a body's own field; a replacer would make JSON.stringify recurse, which a value 3,000 deep overflows.
    const { json } = recipe;
    const leased = typeof json === "object" && json !== null && (json as { lease?: unknown }).lease === CLAIMED;
    return JSON.stringify(leased ? { ...json, lease: claimed?.lease ?? "unclaimed" } : json) ?? "null";
  }
  if ("text" in recipe) return recipe.text;
  if ("deep" in recipe) return `{"type":"approve","id":"deep","count":1,"payload":${"[".repeat(recipe.deep)}${"]".repeat(recipe.deep)}}`;
  if ("big" in recipe) return `{"type":"approve","id":"big","params":"${"b".repeat(recipe.big)}"}`;
  return new Uint8Array(recipe.bytes);
}

/** The task a recipe claimed first, if any was given: what CLAIMED stands for in its path and body. */
export interface Claimed {
  instanceId: string;
  lease: string;
}

/** The request a recipe makes: a path with its query, relative to the host, and its method, headers and body. */
export function requestOf(r: Recipe, claimed?: Claimed): { path: string; init: RequestInit } {
  const search = new URLSearchParams(r.query);
  if (r.auth === "query") search.append("token", TOKEN);
  if (r.auth === "queryWrong") search.append("token", "wrong");
  const id = r.id === CLAIMED ? (claimed?.instanceId ?? "unclaimed") : r.id;
  const path = r.template.replace("{name}", r.name).replace("{workflow}", r.name).replaceAll("{id}", id) + (search.size ? `?${search}` : "");
  const [own, other] = r.template.startsWith("/api/python/") ? [WORKER_TOKEN, TOKEN] : [TOKEN, WORKER_TOKEN];
  const authorization: Partial<Record<Auth, string>> = { valid: `Bearer ${own}`, otherRealm: `Bearer ${other}`, scheme: `Basic ${own}`, wrong: "Bearer nope", empty: "", long: `Bearer ${"t".repeat(20_000)}` };
  const sent = new Headers(r.headers);
  if (authorization[r.auth] !== undefined) sent.set("authorization", authorization[r.auth]!);
  const method = r.method.toUpperCase();
  const withBody = r.body !== undefined && method !== "GET" && method !== "HEAD";
  return { path, init: { method: r.method, headers: sent, ...(withBody ? { body: bodyText(r.body!, claimed) } : {}) } };
}

/** A readable account of a request for a failure message: what fast-check's shrunk counterexample was. */
export function describeRequest(r: Recipe): string {
  const { path, init } = requestOf(r);
  const shown = r.body === undefined ? "" : "json" in r.body ? fc.stringify(r.body.json).slice(0, 300) : "text" in r.body ? JSON.stringify(r.body.text) : JSON.stringify(r.body);
  return `${r.claimFirst ? "(after claiming a task: <claimed> is its instance and lease)\n  " : ""}${init.method} ${path.slice(0, 300)}\n  auth: ${r.auth}, headers: ${JSON.stringify(r.headers)}\n  body: ${shown}`;
}

/** Codes any request can get, whatever it targets. */
const ANYWHERE: readonly ErrorCode[] = ["auth.invalid", "auth.not_configured", "auth.token_in_query", "request.invalid_path"];

/** Where a run's requests go, and how to see what they did. */
export interface FuzzTarget {
  /** Sends the request (`path` relative to the host) as the app receives it. */
  send(path: string, init: RequestInit): Promise<Response>;
  /** Every instance's whole log, as text: what a refusal must leave exactly as it was. */
  logs(): Promise<string>;
  /** Waits until the work a request set off is done, so that the logs stand still. */
  settle(): Promise<void>;
  /** Told of every request accepted (below 400), with its answer's text, before the host settles. */
  accepted?(path: string, status: number, text: string): void;
  /** The method the app receives for a request sent with `init`, where the host's fetch changes it. */
  methodReceived?(init: RequestInit): string;
}

/** What the runs reached: answers below 400 and refusals per endpoint, requests, accepted requests that changed a log, and heavy values sent and stored (nested ones and large ones). */
export interface Tally {
  reached: Map<Endpoint, { ok: number; refused: number }>;
  requests: number;
  refused: number;
  changedLogs: number;
  heavy: { sent: number; stored: { nested: number; large: number } };
}

export const newTally = (): Tally => ({ reached: new Map(), requests: 0, refused: 0, changedLogs: 0, heavy: { sent: 0, stored: { nested: 0, large: 0 } } });

/** The tally in a sentence, for the test's log. */
export const describeTally = (tally: Tally) =>
  `${tally.requests} requests (${tally.refused} refused); ${tally.changedLogs} accepted requests changed a log; heavy values: ${tally.heavy.sent} sent, ${tally.heavy.stored.nested} nested and ${tally.heavy.stored.large} large ones stored`;

/** An answer's body as text; an event stream is cancelled unread, as it may be live. */
async function textOf(response: Response): Promise<string> {
  if ((response.headers.get("content-type") ?? "").startsWith("text/event-stream")) {
    await response.body?.cancel();
    return "";
  }
  return response.text();
}

/** The claim a recipe with `claimFirst` sends before itself: well formed, under the worker token, waiting for nothing. */
function claimOf(r: Recipe): Recipe {
  return { method: "POST", template: "/api/python/v1/workflows/{workflow}/claim", name: r.name, id: "", query: [], auth: "valid", headers: [], body: { json: { protocol: 1, worker: "fuzz/pid-1", waitMs: 0 } } };
}

/**
 * Sends a run's requests in order and judges each answer: no 5xx; an error
 * is `{ error: { code, message } }` with a code in the table, under its
 * status, documented by its route; a refusal leaves every log as it was. A
 * recipe that claims first sends its claim as one more request, judged the
 * same, and goes under the lease of the task it gave, if any.
 */
export async function sendAll(requests: FuzzRequests, target: FuzzTarget, recipes: readonly Recipe[], tally: Tally): Promise<void> {
  const state = { logs: await target.logs() };
  for (const r of recipes) {
    let claimed: Claimed | undefined;
    if (r.claimFirst) {
      const { status, text } = await sendOne(requests, target, claimOf(r), undefined, tally, state);
      if (status === 200) {
        const { task } = JSON.parse(text) as { task: Claimed };
        claimed = { instanceId: task.instanceId, lease: task.lease };
      }
    }
    await sendOne(requests, target, r, claimed, tally, state);
  }
}

/** Sends one request and judges its answer (see sendAll); `state.logs` are the logs before it, and after it once it returns. */
async function sendOne(requests: FuzzRequests, target: FuzzTarget, r: Recipe, claimed: Claimed | undefined, tally: Tally, state: { logs: string }): Promise<{ status: number; text: string }> {
  const { path, init } = requestOf(r, claimed);
  const response = await target.send(path, init);
  tally.requests++;
  if (response.status >= 400) tally.refused++;
  const where = describeRequest(r);
  expect(response.status, where).toBeLessThan(500);
  const type = response.headers.get("content-type") ?? "";
  const text = await textOf(response);
  if (response.status < 400) target.accepted?.(path, response.status, text);
  await target.settle();
  const before = state.logs;
  const logs = (state.logs = await target.logs());
  const method = (target.methodReceived?.(init) ?? init.method ?? "GET").toUpperCase();
  const route = requests.routeOf(method, new URL(path, "http://x").pathname);
  if (route && route !== "other-method") {
    const seen = tally.reached.get(route) ?? { ok: 0, refused: 0 };
    tally.reached.set(route, { ok: seen.ok + (response.status < 400 ? 1 : 0), refused: seen.refused + (response.status >= 400 ? 1 : 0) });
  }
  const heavy = init.body !== undefined && "json" in r.body! ? heavyIn(r.body.json) : undefined;
  if (heavy) tally.heavy.sent++;
  const answered = { status: response.status, text };
  if (response.status < 400) {
    if (logs === before) return answered;
    tally.changedLogs++;
    if (heavy) tally.heavy.stored["nested" in heavy ? "nested" : "large"]++;
    return answered;
  }

  expect(logs, `a refused request changed a log: ${where}`).toBe(before);
  if (response.status === 405) expect(response.headers.get("allow"), where).toBeTruthy();
  if (method === "HEAD") {
    expect(text, where).toBe("");
    return answered;
  }
  expect(type, where).toMatch(/^application\/json/);
  const answer = JSON.parse(text) as { error: { code: ErrorCode; message: string } };
  expect(Object.keys(answer), where).toEqual(["error"]);
  expect(typeof answer.error.message, where).toBe("string");
  const { code } = answer.error;
  expect(ERROR_STATUS[code], `${code} is not in the table: ${where}`).toBe(response.status);
  const allowed = route === undefined ? ["route.not_found"] : route === "other-method" ? ["method.not_allowed"] : refusals(route);
  expect([...ANYWHERE, ...allowed], `${code} is not documented for this route: ${where}`).toContain(code);
  return answered;
}

/** The runs reached every endpoint, both past its validators and refused by them, and changed logs: the property was put to work. */
export function expectEveryEndpointReached(endpoints: readonly Endpoint[], tally: Tally): void {
  for (const spec of endpoints) {
    const seen = tally.reached.get(spec);
    expect(seen?.ok, `${spec.method} ${spec.path} never answered below 400`).toBeGreaterThan(0);
    expect(seen?.refused, `${spec.method} ${spec.path} never refused`).toBeGreaterThan(0);
  }
  expect(tally.changedLogs).toBeGreaterThan(0);
  expect(tally.heavy.stored.nested, "no value nested near the bound was stored").toBeGreaterThan(0);
  expect(tally.heavy.stored.large, "no value near 1 MiB was stored").toBeGreaterThan(0);
}
