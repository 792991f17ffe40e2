import type { RegistryEntry } from "../adapters/durable-object/registry-object";

/**
 * The tests' hold on the registry: refuse an instance's calls, as an
 * overloaded or unreachable registry would, and count them. Plain module
 * state: the tests share one isolate with the Durable Objects under test.
 */
const refused = new Set<string>();
const updates = new Map<string, number>();
const removals = new Map<string, number>();

/** From now on the registry throws on every update and remove for `id`, until `accept(id)`. */
export function refuse(id: string): void {
  refused.add(id);
}

export function accept(id: string): void {
  refused.delete(id);
}

/** Status reports for `id` that reached the registry, refused ones included. */
export function updatesFor(id: string): number {
  return updates.get(id) ?? 0;
}

export function removalsFor(id: string): number {
  return removals.get(id) ?? 0;
}

interface Registry {
  update(workflow: string, entry: RegistryEntry): Promise<void>;
  remove(id: string): Promise<void>;
}

/**
 * The registry class the test Worker exports: the real one, with the
 * refusals and counts above. (`any[]` is TypeScript's rule for a class
 * that extends a type parameter.)
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function probed<T extends new (...args: any[]) => Registry>(Registry: T): T {
  return class ProbedRegistry extends Registry {
    override async update(workflow: string, entry: RegistryEntry): Promise<void> {
      updates.set(entry.id, updatesFor(entry.id) + 1);
      if (refused.has(entry.id)) throw new Error(`The test refuses the registry's update of ${entry.id}.`);
      return super.update(workflow, entry);
    }

    override async remove(id: string): Promise<void> {
      removals.set(id, removalsFor(id) + 1);
      if (refused.has(id)) throw new Error(`The test refuses the registry's removal of ${id}.`);
      return super.remove(id);
    }
  };
}
