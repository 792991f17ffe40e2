import type { AnyStateMachine, EventFromLogic, InputFrom, OutputFrom } from "xstate";

/**
 * What a workflow's client takes and gives: create()'s params, the events
 * sendEvent() accepts and status()'s output. Each definition carries them as
 * a phantom (a type only, never set), read by the typed client
 * (runtime/typed-client.ts).
 */
export interface WorkflowTypes<TParams = unknown, TEvent extends ClientEvent = ClientEvent, TOutput = unknown> {
  params: TParams;
  event: TEvent;
  output: TOutput;
}

/** An event as sendEvent() delivers it: the instance receives `{ type, payload }`. */
export interface ClientEvent {
  type: string;
  payload?: unknown;
}

/** A workflow whose code declares no types (a Python workflow, or a definition typed only as "some workflow"): any params and events, output unknown. */
export type UntypedWorkflow = WorkflowTypes<unknown, ClientEvent, unknown>;

type IsAny<T> = 0 extends 1 & T ? true : false;

/** What a type left undeclared comes out as in XState (NonReducibleUnknown, or any) becomes `unknown`. */
export type Declared<T> = unknown extends T ? unknown : T;

/**
 * The machine events a client can send, as sendEvent() takes them. An event
 * with fields besides `type` and `payload` cannot arrive through sendEvent()
 * (the machine would receive it without them), so it is not offered; an
 * event without a payload takes none. A machine that declares no events
 * takes any.
 */
export type ClientEvents<E> =
  IsAny<E> extends true
    ? ClientEvent
    : E extends { type: infer T extends string }
      ? string extends T
        ? ClientEvent
        : [Exclude<keyof E, "type" | "payload">] extends [never]
          ? { type: T } & ("payload" extends keyof E ? Pick<E, "payload"> : { payload?: undefined })
          : never
      : never;

/** A machine's client types: its input as params, its events, its output. */
export type MachineTypes<TMachine extends AnyStateMachine> =
  IsAny<TMachine> extends true
    ? UntypedWorkflow
    : WorkflowTypes<Declared<InputFrom<TMachine>>, ClientEvents<EventFromLogic<TMachine>>, Declared<OutputFrom<TMachine>>>;
