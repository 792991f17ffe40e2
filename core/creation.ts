import { toJson } from "./json";
import type { RecordBody } from "./records";
import type { Retention } from "./retention";
import type { CronFiring } from "./schedule";

/** What an instance is created with, checked by the host; it all goes into the instance's first record. */
export interface Creation {
  params?: unknown;
  retention: Retention;
  /** The cron firing that created the instance, if one did. */
  schedule?: CronFiring;
}

/** The first record of an instance, either kind. Refuses params the log could not carry. */
export function createdRecord(def: { name: string; hash: string }, instanceId: string, creation: Creation): RecordBody<"instance.created"> {
  const params = toJson(creation.params, "params");
  return {
    type: "instance.created",
    data: {
      workflow: def.name,
      instanceId,
      definitionHash: def.hash,
      ...(params === undefined ? {} : { params }),
      retention: creation.retention,
      ...(creation.schedule === undefined ? {} : { schedule: creation.schedule }),
    },
  };
}
