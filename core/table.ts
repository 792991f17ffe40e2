/**
 * Reads and writes of the plain-object tables folded state keeps by keys that
 * users choose: idempotency keys, invoke and timer ids, step keys, a DAG's
 * task names. A plain object answers `"constructor" in table` and
 * `table.toString` from its prototype, and `table["__proto__"] = x` replaces
 * the prototype instead of storing x: an event keyed "constructor" would be
 * taken for a repeat, a timer with id "__proto__" would vanish.
 *
 * The tables stay plain objects, because they are persisted as JSON and
 * JSON.parse gives every object back with a prototype; a null-prototype
 * table would not survive a snapshot. So every access by such a key goes
 * through here, and looks at own properties only.
 */
export type Table<T> = Record<string, T>;

export function has(table: Readonly<Table<unknown>>, key: string): boolean {
  return Object.hasOwn(table, key);
}

export function get<T>(table: Readonly<Table<T>>, key: string): T | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}

/** Stores `value` as an own property, under "__proto__" too. */
export function put<T>(table: Table<T>, key: string, value: NoInfer<T>): void {
  if (key === "__proto__") Object.defineProperty(table, key, { value, writable: true, enumerable: true, configurable: true });
  else table[key] = value;
}
