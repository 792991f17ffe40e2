import { createWorkflows } from "../worker";
import { dataPipeline } from "../machines/data-pipeline";
import { groceryAgent } from "../machines/grocery-agent";
import { trainingLoop } from "../machines/training-loop";
import { booking } from "./booking";
import { cronMachine, cronReport } from "./scheduled-workflows";
import { skewClock } from "./skew-clock";
import { conformanceWorkflows } from "./conformance/classes";
import { evictedRelay, evictedSaga } from "./eviction-workflows";
import { dagDiamond, dagFanOut } from "./dag-workflows";
import { wideDag } from "./wide-dag";
import { gated, secret, streamed, trip } from "./workflows";
import { hoarder, instant, loudFailure, treadmill } from "./registry-workflows";
import { probed } from "./registry-probe";
import { deaf, listener } from "./large-events";
import { ticker } from "./ticker";
import { gate, retryLater } from "./fuzz-workflows";
import { pinger } from "./live-workflows";
import { stamper } from "./context-workflows";
import { pythonWorkflows } from "./python-workflows";
import { testedCheckout, testedOrder, testedReport } from "./testing-workflows";

export { RunLedger } from "./run-ledger";
export * from "./conformance/classes";

export const workflows = createWorkflows({ workflows: [gated, trainingLoop, dataPipeline, groceryAgent, ...conformanceWorkflows, secret, trip, evictedSaga, evictedRelay, streamed, booking, cronMachine, cronReport, dagDiamond, dagFanOut, wideDag, listener, deaf, instant, treadmill, hoarder, loudFailure, ticker, gate, retryLater, pinger, stamper, ...pythonWorkflows, testedOrder, testedCheckout, testedReport], snapshotEvery: 2, clock: skewClock });
export const { WorkflowInstance } = workflows;
/** The registry with the tests' hold on it (refusals, call counts); unheld, it is the real one. */
export const WorkflowRegistry = probed(workflows.WorkflowRegistry);

export default { fetch: workflows.fetch, scheduled: workflows.scheduled } satisfies ExportedHandler;
