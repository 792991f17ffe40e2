import { describe, it, expect } from "vitest";
import { assertPlainJson, jsonTextDepth, MAX_JSON_DEPTH, MAX_PAYLOAD_BYTES, parseBoundedJson, toJson, utf8Length } from "./json";
import { NotSerializableError, PayloadTooDeepError, PayloadTooLargeError } from "./errors";

function refusal(value: unknown, what = "params"): NotSerializableError {
  let caught: unknown;
  try {
    toJson(value, what);
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(NotSerializableError);
  expect((caught as NotSerializableError).code).toBe("payload.not_serializable");
  return caught as NotSerializableError;
}

class Person {
  constructor(readonly name: string) {}
}

describe("toJson", () => {
  it("returns a JSON copy, not the original", () => {
    const input = { user: { name: "Ada", tags: ["a", "b"], age: 36, admin: false, boss: null } };
    const copy = toJson(input, "params");
    expect(copy).toEqual(input);
    expect(copy).not.toBe(input);
    expect((copy as { user: object }).user).not.toBe(input.user);
  });

  it("passes top-level primitives and null through", () => {
    expect(toJson("text", "output")).toBe("text");
    expect(toJson(42, "output")).toBe(42);
    expect(toJson(true, "output")).toBe(true);
    expect(toJson(null, "output")).toBeNull();
  });

  it("returns undefined for a top-level undefined", () => {
    expect(toJson(undefined, "output")).toBeUndefined();
  });

  it("drops object properties that are undefined", () => {
    const copy = toJson({ a: 1, b: undefined, nested: { c: undefined } }, "params");
    expect(copy).toEqual({ a: 1, nested: {} });
    expect(Object.keys(copy as object)).toEqual(["a", "nested"]);
  });

  it("accepts objects without a prototype", () => {
    const bare = Object.assign(Object.create(null) as object, { a: 1 });
    expect(toJson({ bare }, "params")).toEqual({ bare: { a: 1 } });
  });

  it("accepts the same object reached twice without a cycle", () => {
    const shared = { x: 1 };
    expect(toJson({ a: shared, b: shared, list: [shared, shared] }, "params")).toEqual({
      a: { x: 1 },
      b: { x: 1 },
      list: [{ x: 1 }, { x: 1 }],
    });
  });

  it.each([
    ["a function", { cb: () => 1 }, "params.cb", "a function"],
    ["a symbol", { s: Symbol("s") }, "params.s", "a symbol"],
    ["a bigint", { n: 10n }, "params.n", "a bigint"],
    ["NaN", { n: Number.NaN }, "params.n", "NaN"],
    ["Infinity", { n: Number.POSITIVE_INFINITY }, "params.n", "Infinity"],
    ["-Infinity", { n: Number.NEGATIVE_INFINITY }, "params.n", "-Infinity"],
    ["a Date", { user: { born: new Date(0) } }, "params.user.born", "a Date"],
    ["a Map", { m: new Map() }, "params.m", "a Map"],
    ["a Set", { list: [1, new Set()] }, "params.list[1]", "a Set"],
    ["a class instance", { who: new Person("Ada") }, "params.who", "a Person"],
    ["undefined inside an array", { items: [1, undefined, 3] }, "params.items[1]", "undefined"],
  ])("refuses %s and names its path", (_label, value, path, found) => {
    expect(refusal(value).message).toContain(`${path} is ${found}`);
  });

  it("refuses a circular reference and names where it closes", () => {
    const user: Record<string, unknown> = { name: "Ada" };
    user.self = user;
    expect(refusal({ user }).message).toContain("params.user.self is a circular reference");

    const list: unknown[] = [1];
    list.push(list);
    expect(refusal(list).message).toContain("params[1] is a circular reference");
  });

  it("names the top level by `what` when the whole value is refused", () => {
    expect(refusal(() => 1, "output").message).toContain("output is a function");
    expect(refusal(new Date(0), "payload").message).toContain("payload is a Date");
  });

  it("refuses a value larger than the limit", () => {
    let caught: unknown;
    try {
      toJson({ text: "x".repeat(100) }, "output", 50);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(PayloadTooLargeError);
    expect((caught as PayloadTooLargeError).code).toBe("payload.too_large");
    expect((caught as Error).message).toContain(`${JSON.stringify({ text: "x".repeat(100) }).length} bytes`);
  });

  it("accepts a value exactly at the limit", () => {
    const text = JSON.stringify("abc"); // 5 bytes
    expect(toJson("abc", "output", text.length)).toBe("abc");
    expect(() => toJson("abc", "output", text.length - 1)).toThrow(PayloadTooLargeError);
  });

  it("counts UTF-8 bytes, not characters", () => {
    // "éé" is 4 characters of JSON ("éé" with quotes) but 6 bytes.
    expect(JSON.stringify("éé").length).toBe(4);
    expect(utf8Length(JSON.stringify("éé"))).toBe(6);
    expect(() => toJson("éé", "output", 5)).toThrow(PayloadTooLargeError);
    expect(toJson("éé", "output", 6)).toBe("éé");
    expect(() => toJson("😀", "output", 5)).toThrow(/is 6 bytes as JSON/);
  });

  it("defaults to Cloudflare's 1 MiB limit", () => {
    expect(MAX_PAYLOAD_BYTES).toBe(1024 * 1024);
    const fits = "x".repeat(MAX_PAYLOAD_BYTES - 2);
    expect(toJson(fits, "output")).toBe(fits);
    expect(() => toJson(`${fits}x`, "output")).toThrow(PayloadTooLargeError);
  });
});

describe("toJson and sparse arrays", () => {
  it("refuses a hole, which JSON would turn into null", () => {
    // eslint-disable-next-line no-sparse-arrays
    expect(() => toJson([1, , 2], "params")).toThrow(/params\[1\] is a hole in a sparse array/);
  });
});

describe("nesting depth", () => {
  const nested = (levels: number): unknown => {
    let value: unknown = "leaf";
    for (let i = 0; i < levels; i++) value = i % 2 ? { a: value } : [value];
    return value;
  };

  it("stores values nested up to MAX_JSON_DEPTH levels and refuses one level more with payload.too_deep", () => {
    expect(toJson(nested(MAX_JSON_DEPTH), "params")).toEqual(nested(MAX_JSON_DEPTH));
    expect(() => toJson(nested(MAX_JSON_DEPTH + 1), "params")).toThrow(PayloadTooDeepError);
    expect(() => toJson(nested(MAX_JSON_DEPTH + 1), "params")).toThrow(/params nests arrays and objects more than 100 levels/);
  });

  it("refuses a value nested far past any stack with a typed error, not a RangeError", () => {
    expect(() => toJson(nested(200_000), "the event payload")).toThrow(PayloadTooDeepError);
  });

  it("measures the nesting of JSON text as JSON.parse would build it, ignoring brackets inside strings", () => {
    for (const levels of [0, 1, 2, 37, MAX_JSON_DEPTH]) expect(jsonTextDepth(JSON.stringify(nested(levels)))).toBe(levels);
    expect(jsonTextDepth(JSON.stringify({ text: "[[[{{{\\\"[[[" }))).toBe(1);
    expect(jsonTextDepth(JSON.stringify(["\\", ["\\\\"]]))).toBe(2);
  });

  it("stops counting once past the bound, so a hostile text costs one pass at most", () => {
    const text = "[".repeat(1_000_000);
    expect(jsonTextDepth(text, 100)).toBe(101);
  });

  it("parses bounded text and refuses deeper text before JSON.parse sees it", () => {
    expect(parseBoundedJson(JSON.stringify(nested(MAX_JSON_DEPTH)), "the request body")).toEqual(nested(MAX_JSON_DEPTH));
    expect(() => parseBoundedJson("[".repeat(5000) + "]".repeat(5000), "the request body")).toThrow(PayloadTooDeepError);
  });
});

describe("assertPlainJson, checking context after each transition", () => {
  /** A list that throws as soon as anything walks it. */
  const untouchable = () => new Proxy([], { get: () => { throw new Error("walked"); } });

  it("names the first part JSON cannot carry, as toJson does", () => {
    expect(() => assertPlainJson({ n: 1, when: new Date(0) }, "context")).toThrow(/context must be plain JSON, but context\.when is a Date/);
    expect(() => assertPlainJson({ deep: [[[[[[[[[[[]]]]]]]]]]] }, "context", 10)).toThrow(PayloadTooDeepError);
    expect(() => assertPlainJson({ n: 1, list: [1, "two", { three: null }] }, "context")).not.toThrow();
  });

  it("given the value before the change, walks only the top-level values that changed", () => {
    const items = untouchable();
    expect(() => assertPlainJson({ items, n: 2 }, "context", 100, { items, n: 1 })).not.toThrow();
    expect(() => assertPlainJson({ items, n: 2, table: new Map() }, "context", 100, { items, n: 1 })).toThrow(/context\.table is a Map/);
    expect(() => assertPlainJson({ items: untouchable() }, "context", 100, { items })).toThrow("walked");
  });

  it("still finds a value that points back at the root", () => {
    const context: Record<string, unknown> = { n: 1 };
    context.self = { back: context };
    expect(() => assertPlainJson(context, "context", 100, { n: 1 })).toThrow(/circular/);
  });
});
