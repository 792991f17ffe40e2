import type { AnyMachineSnapshot, AnyStateMachine, EventObject, StateValue } from "xstate";

/**
 * Hands each event only to the task regions that can take it, with the same
 * transitions as a result as XState's own selection.
 *
 * XState looks for an event's transitions in every region of a parallel
 * state, and caches what it found per state node and event type for as long
 * as the machine lives. A DAG's events are mostly a step's done event, whose
 * type names its task, so with one region per task that is work in every
 * region for every step, and a cache that grows with tasks times tasks
 * (about 350 MB for 1,000 tasks). Each region's event types are known from
 * the machine: XState only looks in the regions that list the event's type
 * (or a wildcard), which are the only ones that can take it.
 */
export function withRoutedEvents(machine: AnyStateMachine): AnyStateMachine {
  const byType = new Map<string, string[]>();
  const everywhere = new Set<string>();
  const regions = Object.entries(machine.root.states);
  for (const [name, region] of regions) {
    const types = new Set(region.events);
    if ([...types].some((type) => type.endsWith("*"))) everywhere.add(name);
    for (const type of types) byType.set(type, [...(byType.get(type) ?? []), name]);
  }
  /** In the machine's order, as XState visits them: the order of the transitions it returns depends on it. */
  const takers = (type: string) => (everywhere.size ? regions.map(([name]) => name).filter((name) => everywhere.has(name) || byType.get(type)?.includes(name)) : (byType.get(type) ?? []));
  const stock = machine.getTransitionData.bind(machine);
  const getTransitionData = (snapshot: AnyMachineSnapshot, event: EventObject) => {
    const value = snapshot.value as Record<string, StateValue>;
    const narrowed = Object.fromEntries(takers(event.type).filter((name) => Object.hasOwn(value, name)).map((name) => [name, value[name]]));
    return stock({ ...snapshot, value: narrowed } as AnyMachineSnapshot, event);
  };
  return Object.assign(machine, { getTransitionData });
}
