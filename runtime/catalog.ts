import type { AnyWorkflowDefinition } from "../core/definition";
import { DefinitionMismatchError, InvalidDefinitionError, UnknownWorkflowError } from "../core/errors";

/**
 * The workflows a host serves. A name may list several definitions: new
 * instances use the last, and each instance replays with the definition it
 * was created by, found by the hash it pinned.
 */
export class WorkflowCatalog {
  private readonly byName = new Map<string, AnyWorkflowDefinition[]>();

  constructor(definitions: readonly AnyWorkflowDefinition[]) {
    for (const def of definitions) {
      const versions = this.byName.get(def.name) ?? [];
      if (versions.some((known) => known.hash === def.hash)) {
        throw new InvalidDefinitionError(def.name, `the same definition (hash ${def.hash}) is listed twice.`);
      }
      versions.push(def);
      this.byName.set(def.name, versions);
    }
  }

  names(): string[] {
    return [...this.byName.keys()];
  }

  latest(name: string): AnyWorkflowDefinition {
    const versions = this.byName.get(name);
    if (!versions) throw new UnknownWorkflowError(name, this.names());
    return versions[versions.length - 1]!;
  }

  pinned(name: string, instanceId: string, hash: string): AnyWorkflowDefinition {
    const versions = this.byName.get(name);
    if (!versions) throw new UnknownWorkflowError(name, this.names());
    const def = versions.find((candidate) => candidate.hash === hash);
    if (!def) throw new DefinitionMismatchError(name, instanceId, hash, versions.map((v) => `${v.hash} (version ${v.version})`));
    return def;
  }
}
