import { Immer, type Draft } from "immer";
import { assign, type ActionArgs, type ActionFunction, type AnyEventObject, type EventObject, type LowInfer, type MachineContext, type ParameterizedObject, type ProvidedActor } from "xstate";

/**
 * Its own Immer, so that the user's own immer settings (setAutoFreeze…) and
 * ours never touch. It does not freeze: whether contexts are frozen is the
 * workflow's choice (`freezeContext`, see core/frozen-context.ts), made once
 * for every context, not only those an assignDraft made.
 */
const immer = new Immer({ autoFreeze: false });

/** What an assignDraft recipe receives: XState's action arguments, with `context` as a draft to change in place. */
export type DraftAssignArgs<TContext extends MachineContext, TExpressionEvent extends EventObject, TEvent extends EventObject> = Omit<
  ActionArgs<TContext, TExpressionEvent, TEvent>,
  "context"
> & { context: Draft<TContext> };

/**
 * XState's `assign`, written as changes to an immer draft of the context:
 * `assignDraft(({ context, event }) => { context.items.push(event.item) })`.
 * The draft's changes make a new context (parts left alone are shared), as
 * `assign` would, so replay folds to the same state. The recipe's return
 * value is ignored. A top-level key deleted from the draft becomes
 * `undefined`, since XState merges an assign's result into the old context;
 * snapshots store it as absent, as they do any `undefined`.
 *
 * Named apart from XState's `assign`, which the same file usually imports.
 */
export function assignDraft<
  TContext extends MachineContext,
  TExpressionEvent extends AnyEventObject,
  TParams extends ParameterizedObject["params"] | undefined,
  TEvent extends EventObject,
  TActor extends ProvidedActor,
>(
  recipe: (args: DraftAssignArgs<LowInfer<TContext>, TExpressionEvent, TEvent>, params: TParams) => void,
): ActionFunction<TContext, TExpressionEvent, TEvent, TParams, TActor, never, never, never, never> {
  return assign<TContext, TExpressionEvent, TParams, TEvent, TActor>((args, params) => {
    const before = args.context as Record<string, unknown>;
    const after = immer.produce(before, (draft) => {
      recipe({ ...args, context: draft } as unknown as DraftAssignArgs<LowInfer<TContext>, TExpressionEvent, TEvent>, params);
    });
    const update: Record<string, unknown> = { ...after };
    for (const key of Object.keys(before)) if (!Object.hasOwn(after, key)) update[key] = undefined;
    return update as Partial<LowInfer<TContext>>;
  });
}
