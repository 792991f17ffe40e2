import type { AnyWorkflowDefinition } from "../core/definition";
import type { UntypedWorkflow, WorkflowTypes } from "../core/workflow-types";

/** Workflow names and the types of each one's client, as a host serves them. */
export type WorkflowRegistry = Record<string, WorkflowTypes>;

/** What a host built from definitions typed only as "some workflow" serves: any name, untyped. */
export type UntypedRegistry = Record<string, UntypedWorkflow>;

/** The types a definition carries as its phantom `types`. */
export type TypesOf<TDefinition extends AnyWorkflowDefinition> = NonNullable<TDefinition["types"]>;

/**
 * The registry of a host given these definitions: each one's name to its
 * types. Two versions of one workflow share a name, and its client takes
 * what either takes.
 */
export type RegistryOf<TDefinition extends AnyWorkflowDefinition> = { [D in TDefinition as D["name"]]: TypesOf<D> };

/** The names a host serves, as `workflow(name)` takes them. */
export type WorkflowName<TRegistry extends WorkflowRegistry> = keyof TRegistry & string;
