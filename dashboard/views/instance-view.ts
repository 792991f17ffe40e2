import type { HistoryStep } from "../../core/step-history";
import { ACTION_LABELS, ACTIONS, allowed, isFinished, runAction, type Action } from "../actions";
import type { Api, InstanceStatus } from "../api";
import { badge, errorLine, jsonBlock, statusLabel, textBlock, timeText } from "../components/bits";
import { copyButton } from "../components/copy-button";
import { confirmAction, parseJsonField } from "../components/confirm";
import type { Notices } from "../components/notices";
import { byId, fill, h } from "../dom";
import { duration } from "../format";
import { followInstance } from "../event-stream";
import { openInspectSocket, type MachineJson } from "../inspect-socket";
import { READ_RECORDS, LogRecords } from "../log-records";
import { routeUrl } from "../router";
import type { Instant } from "../../core/time-travel";
import { runAsOf, runGraph, type DagShape } from "../diagram";
import { mapProgress, taskStates } from "./dag-view";
import { DiagramPanel, type DiagramSubject } from "./diagram-panel";
import { InstanceLog } from "./log-view";
import { StepHistory } from "./step-history";
import { TimeTravel } from "./time-travel";
import { drawTimeline } from "./timeline-view";

/** How long a burst of live events is gathered before the page is drawn again. */
const SETTLE_MS = 50;
/** The timeline is drawn again at most this often while records arrive: it folds up to READ_RECORDS records and draws a row per bar. */
const TIMELINE_EVERY_MS = 1_000;

export interface InstanceViewHost {
  api: Api;
  notices: Notices;
  /** Opens a step (its URL), or closes the open one. */
  openStep(step: string | undefined): void;
  /** The instance was deleted. */
  deleted(id: string): void;
}

/** The instance page's fixed frame; render() fills it, so typing in its fields survives live updates. */
function layout(workflow: string, id: string, status: string | undefined): HTMLElement[] {
  return [
    h("a", { class: "back", href: routeUrl({ view: "workflow", workflow, ...(status ? { status } : {}) }), "data-link": true }, "← All instances"),
    h("h2", { class: "instance-title" }, h("span", { id: "detail-id" }, id), copyButton("id", () => id), h("span", { id: "detail-status", class: "status" }, "loading…")),
    h(
      "div",
      { class: "tools" },
      ACTIONS.map((action) => h("button", { type: "button", "data-action": action, class: action === "delete" ? "danger" : undefined, disabled: true }, ACTION_LABELS[action])),
      h(
        "form",
        { class: "send-event", id: "send-event-form" },
        h("input", { id: "event-type", placeholder: "event type", size: 12, "aria-label": "Event type" }),
        h("input", { id: "event-payload", placeholder: "payload JSON", size: 16, "aria-label": "Event payload (JSON)" }),
        h("button", { id: "send-event", class: "primary" }, "Send event"),
      ),
    ),
    h("div", { class: "summary", id: "summary" }, h("p", { class: "muted" }, "Loading…")),
    h("div", { class: "grid3", id: "io" }),
    h("h2", {}, "Step history"),
    h(
      "div",
      { class: "tools" },
      h("input", { id: "step-search", type: "search", placeholder: "search steps by name", size: 22, "aria-label": "Search steps by name" }),
      h("select", { id: "step-kind", "aria-label": "Step kind" }),
      h("span", { class: "muted" }, "newest first · + shows attempts, config and output"),
    ),
    h(
      "div",
      { class: "scroll-x" },
      h(
        "table",
        { class: "steps" },
        h("thead", {}, h("tr", {}, h("th", {}, ""), h("th", {}, "step"), h("th", {}, "outcome"), h("th", {}, "start"), h("th", { class: "wide-only" }, "end"), h("th", {}, "duration"), h("th", {}, ""))),
        h("tbody", { id: "steps" }, h("tr", {}, h("td", { colspan: 7, class: "muted" }, "Loading…"))),
      ),
    ),
    // The panels under the step history: the diagram with the time-travel slider under it, and the log; then the timeline.
    h(
      "div",
      { class: "grid2" },
      h(
        "div",
        { class: "panel" },
        h("h2", {}, "Diagram"),
        h("div", { id: "diagram" }),
        h("h3", {}, "Time travel"),
        h("div", { id: "time-travel" }),
        h("div", { id: "map-progress" }),
      ),
      h(
        "div",
        { class: "panel" },
        h("h2", {}, "Log"),
        h("div", { class: "tools" }, h("span", { id: "log-note", class: "muted" }, "Reading the log…"), h("button", { id: "log-older", type: "button", class: "small", hidden: true }, "Older records")),
        h("div", { id: "log-alone" }),
        // A scrolled region a keyboard can scroll too: focusable, named for a screen reader.
        h("div", { class: "log", id: "log-records", tabindex: 0, role: "region", "aria-label": "Log records" }),
      ),
    ),
    h("h2", {}, "Timeline"),
    h("div", { id: "timeline" }, h("p", { class: "muted" }, "Reading the log…")),
  ];
}

/**
 * One instance: its status and actions, params, output and error, the step
 * history, the machine and the log, kept live by the instance's event
 * stream (read with fetch and the Authorization header) and by the
 * inspection socket for the machine's definition and context.
 */
export class InstanceView {
  private readonly stop = new AbortController();
  /** The log's records the page holds: the timeline's, the log panel's, the header's. */
  private readonly records: LogRecords;
  private readonly log: InstanceLog;
  private readonly steps: StepHistory;
  private socket: WebSocket | undefined;
  private definition: MachineJson | undefined;
  private context: unknown;
  private status: InstanceStatus | undefined;
  private following = false;
  /** A render is under way; another asked for meanwhile runs once it ends. */
  private rendering = false;
  private renderAgain = false;
  private settle: ReturnType<typeof setTimeout> | undefined;
  private stepShown = false;
  private readonly diagram: DiagramPanel;
  private readonly travel: TimeTravel;
  /** The instant the slider shows, while it is not at now. */
  private past: Instant | undefined;
  /** A code-first run's last graph shape and what it was made from, so the diagram is laid out again only when the shape changes. */
  private runShape: { signature: string; shape: DagShape } | undefined;
  /** Whether the log is a machine's or a code-first run's, which the timeline folds it as; asked once. */
  private kind: Promise<Instant["kind"]> | undefined;
  private steps_: readonly HistoryStep[] = [];
  private timelineWait: ReturnType<typeof setTimeout> | undefined;
  private timelineAt = 0;
  /** What the step history was last drawn from: a long run's thousands of rows are drawn again only when a step changed. */
  private stepsDrawn = "";

  constructor(
    private readonly host: InstanceViewHost,
    readonly workflow: string,
    readonly id: string,
    private step: string | undefined,
    status: string | undefined,
    /** The record the URL names: marked in the log, the slider set to it. */
    private record?: number,
  ) {
    const detail = byId("detail", HTMLElement);
    fill(detail, layout(workflow, id, status));
    this.diagram = new DiagramPanel(byId("diagram", HTMLElement));
    this.travel = new TimeTravel({ api: host.api, fail: (error) => host.notices.fail(error), show: (instant) => this.travelTo(instant) }, workflow, id);
    byId("time-travel", HTMLElement).append(this.travel.element);
    this.records = new LogRecords(host.api, workflow, id, () => this.logChanged(), (error) => host.notices.fail(error));
    this.log = new InstanceLog(this.records, (seq) => routeUrl({ view: "instance", workflow, id, record: seq, ...(status ? { status } : {}) }));
    if (record !== undefined) this.travel.goTo(record);
    this.steps = new StepHistory({ openStep: (step) => host.openStep(step), restartFrom: (key) => void this.restartFrom(key) });
    this.steps.openStep(step);
    for (const button of detail.querySelectorAll<HTMLButtonElement>("[data-action]")) button.addEventListener("click", () => void this.act(button.dataset.action as Action));
    byId("send-event-form", HTMLFormElement).addEventListener("submit", (event) => {
      event.preventDefault();
      void this.sendEvent();
    });
    byId("log-older", HTMLButtonElement).addEventListener("click", () => void this.log.showOlder().then(() => this.logChanged(), (error: unknown) => host.notices.fail(error)));
    void this.render();
    this.follow();
    void this.inspect();
  }

  /** The inspection socket: how far the log goes (the log view starts there), the machine's definition and its context. */
  private async inspect(): Promise<void> {
    const { api, notices } = this.host;
    try {
      const socket = await openInspectSocket(api, this.workflow, this.id, {
        tail: (seq) =>
          void this.records
            .start(seq)
            .then(() => {
              void this.render();
              return this.log.mark(this.record);
            })
            .catch((error: unknown) => notices.fail(error)),
        definition: (definition) => {
          this.definition = definition;
          this.schedule();
        },
        context: (context) => {
          this.context = context;
          this.schedule();
        },
      });
      if (this.stop.signal.aborted) socket.close();
      else this.socket = socket;
    } catch (error) {
      if (!this.stop.signal.aborted) notices.fail(error);
    }
  }

  close(): void {
    this.stop.abort();
    this.socket?.close();
    this.travel.close();
    clearTimeout(this.settle);
    clearTimeout(this.timelineWait);
  }

  /** Opens the step the URL names, or closes the open one. */
  showStep(step: string | undefined): void {
    this.step = step;
    this.steps.openStep(step);
  }

  /** Marks the record the URL names in the log and sets the slider to it; undefined (the URL names none now) returns the slider to now. */
  showRecord(record: number | undefined): void {
    const was = this.record;
    this.record = record;
    if (record !== undefined) this.travel.goTo(record);
    else if (was !== undefined) this.travel.reset();
    this.log.mark(record).catch((error: unknown) => this.host.notices.fail(error));
  }

  /** Records were read (an older page, or older ones the reader asked for): the log panel, the slider's span and the timeline follow. */
  private logChanged(): void {
    if (this.stop.signal.aborted) return;
    this.log.draw();
    this.updateTravel();
    this.timelineSoon();
  }

  private updateTravel(): void {
    const last = this.records.last;
    if (last !== undefined) this.travel.update(last, (seq) => this.records.at(seq)?.at);
  }

  /** Reads the instance again (an action on it from the list). */
  changed(): void {
    this.schedule();
    this.follow();
  }

  /** Follows the event stream until the run ends; an action that starts the run again follows it anew. */
  private follow(): void {
    if (this.following) return;
    this.following = true;
    // The list follows the workflow's change stream on its own, so this stream only redraws this page.
    followInstance(this.host.api, this.workflow, this.id, this.stop.signal, () => this.schedule())
      .catch((error: unknown) => this.host.notices.fail(error))
      .finally(() => (this.following = false));
  }

  private schedule(): void {
    clearTimeout(this.settle);
    this.settle = setTimeout(() => void this.render(), SETTLE_MS);
  }

  /**
   * Reads the instance and draws it. One render at a time: the event stream
   * replays a long run's thousands of events when the page opens, and each
   * render reads the whole step history, so renders asked for while one runs
   * become one more after it, which reads what they would have.
   */
  private async render(): Promise<void> {
    if (this.rendering) {
      this.renderAgain = true;
      return;
    }
    this.rendering = true;
    const { api, notices } = this.host;
    try {
      const [status, steps] = await Promise.all([api.status(this.workflow, this.id), api.steps(this.workflow, this.id), this.records.loadNewer()]);
      if (this.stop.signal.aborted) return;
      this.status = status;
      this.drawHeader(status, steps);
      const retries = this.log.retries();
      const stepsKey = JSON.stringify([steps, [...retries]]);
      if (stepsKey !== this.stepsDrawn) this.steps.update(steps, retries);
      this.stepsDrawn = stepsKey;
      if (!this.stepShown && this.step !== undefined) this.steps.openStep(this.step);
      this.stepShown = true;
      this.steps_ = steps;
      this.drawDiagram();
      this.log.draw();
      this.updateTravel();
      this.timelineSoon();
    } catch (error) {
      if (this.stop.signal.aborted) return;
      notices.fail(error);
      if (!this.status) fill(byId("summary", HTMLElement), h("p", { class: "error" }, "Could not load this instance."));
    } finally {
      this.rendering = false;
      if (this.renderAgain && !this.stop.signal.aborted) {
        this.renderAgain = false;
        this.schedule();
      }
    }
  }

  private drawHeader(status: InstanceStatus, steps: readonly HistoryStep[]): void {
    const badgeElement = byId("detail-status", HTMLElement);
    badgeElement.textContent = statusLabel(status.status);
    badgeElement.className = `status ${status.status}`;
    for (const button of byId("detail", HTMLElement).querySelectorAll<HTMLButtonElement>("[data-action]")) button.disabled = !allowed(button.dataset.action as Action, status.status);
    const { created, records } = this.records;
    const last = records[records.length - 1];
    const completed = steps.filter((step) => step.success === true && !["event", "timer", "rollback"].includes(step.kind)).length;
    const finished = isFinished(status.status);
    fill(
      byId("summary", HTMLElement),
      h("div", {}, h("span", {}, "Status"), badge(statusLabel(status.status), status.status)),
      h("div", {}, h("span", {}, "Steps completed"), completed),
      h("div", {}, h("span", {}, "Started"), created ? timeText(created.at) : "…"),
      h("div", {}, h("span", {}, "Duration"), created && last ? duration((finished ? last.at : Date.now()) - created.at) : "…"),
    );
    fill(
      byId("io", HTMLElement),
      created ? jsonBlock("Input params", created.data.params, { id: "params" }) : textBlock("Input params", undefined, { id: "params" }),
      jsonBlock("Output", status.output, { id: "output" }),
      status.error && textBlock("Error", errorLine(status.error), { id: "error", class: "error" }),
    );
  }

  /** The slider moved to an earlier instant, or back to now (undefined). */
  private travelTo(instant: Instant | undefined): void {
    this.past = instant;
    this.drawDiagram();
  }

  /** The machine's statechart, or a DAG's task graph, lit as the instance stands now or at the slider's instant. */
  private drawDiagram(): void {
    const definition = this.definition;
    const status = this.status;
    if (!definition || !status) return;
    const past = this.past?.kind === "machine" ? this.past : undefined;
    const value = past ? past.value : status.value;
    const ended = isFinished(past ? past.status : status.status);
    const dag = definition.meta?.dag;
    let subject: DiagramSubject;
    if (definition.meta?.run === "code") {
      subject = this.runSubject(definition.id ?? this.workflow);
    } else if (dag) {
      const states = taskStates(dag, value, this.steps_, ended);
      subject = { kind: "dag", name: definition.id ?? this.workflow, shape: dag, taskStates: states };
      fill(byId("map-progress", HTMLElement), mapProgress(dag, states, past ? past.context : this.context));
    } else subject = { kind: "machine", definition, value };
    this.diagram.draw(subject).catch((error: unknown) => this.host.notices.fail(error));
  }

  /**
   * A code-first run's graph from its step history, as it stands or at the
   * slider's record. A step's predecessors are fixed when it starts, so the
   * graph is laid out again only when a step begins; an ending only recolours.
   */
  private runSubject(name: string): DiagramSubject {
    const steps = this.past ? runAsOf(this.steps_, this.past.seq) : this.steps_;
    const graph = runGraph(steps);
    const tasks = graph.shape.tasks;
    const signature = `${graph.omitted}:${tasks.length}:${tasks.at(-1)?.name ?? ""}`;
    if (this.runShape?.signature !== signature) this.runShape = { signature, shape: graph.shape };
    const note = [graph.omitted ? `The newest ${tasks.length} steps; ${graph.omitted} before them are not drawn.` : "", graph.thinned ? "Some steps show only their nearest predecessor: the arrows reached their limit." : ""].filter(Boolean).join(" ");
    fill(byId("map-progress", HTMLElement), note ? h("p", { class: "muted" }, note) : null, tasks.length ? null : h("p", { class: "muted" }, "No steps yet: each step appears as it begins, after the steps that ended before it."));
    return { kind: "dag", name, shape: this.runShape.shape, taskStates: graph.taskStates, run: true };
  }

  /** Draws the timeline now, or once TIMELINE_EVERY_MS has passed since it was last drawn. */
  private timelineSoon(): void {
    if (this.timelineWait !== undefined) return;
    this.timelineWait = setTimeout(
      () => {
        this.timelineWait = undefined;
        this.timelineAt = Date.now();
        this.drawTimeline().catch((error: unknown) => this.host.notices.fail(error));
      },
      Math.max(0, this.timelineAt + TIMELINE_EVERY_MS - Date.now()),
    );
  }

  /** The bars over time of the records the page holds (the newest READ_RECORDS at most): a machine's fold or a code-first run's, as the instance's state says. */
  private async drawTimeline(): Promise<void> {
    const { records, reading } = this.records;
    const status = this.status;
    const last = records[records.length - 1];
    if (!last || !status) return;
    this.kind ??= this.host.api.stateAfter(this.workflow, this.id, last.seq).then((instant) => instant.kind);
    const kind = await this.kind;
    if (this.stop.signal.aborted) return;
    const first = records[0]!.seq;
    const note =
      first > 1 &&
      h(
        "p",
        { class: "muted", id: "timeline-note" },
        reading
          ? `Reading the log: records ${first}–${last.seq} so far…`
          : `Records ${first}–${last.seq} of ${last.seq}: the page reads at most the newest ${READ_RECORDS.toLocaleString("en")} by itself, so bars begun before record ${first} are not drawn. The slider reaches every record; "Older records" in the log reads further back.`,
      );
    fill(byId("timeline", HTMLElement), note, drawTimeline(records, { kind }, isFinished(status.status) ? undefined : Date.now()));
  }

  private async act(action: Action): Promise<void> {
    const { api, notices } = this.host;
    notices.clear();
    try {
      if (!(await runAction(api, this.workflow, this.id, action))) return;
      notices.say(`${action} ${this.id} done`);
      if (action === "delete") return this.host.deleted(this.id);
      this.changed();
    } catch (error) {
      notices.fail(error);
    }
  }

  private async restartFrom(key: string): Promise<void> {
    const { api, notices } = this.host;
    notices.clear();
    const answer = await confirmAction(`Restart ${this.id} from this step?`, "Saved state for this step and later steps will be cleared, while earlier completed steps are kept.");
    if (!answer.ok) return;
    try {
      await api.lifecycle(this.workflow, this.id, "restart", { from: key });
      notices.say(`restarted ${this.id} from ${key}`);
      this.changed();
    } catch (error) {
      notices.fail(error);
    }
  }

  private async sendEvent(): Promise<void> {
    const { api, notices } = this.host;
    notices.clear();
    const type = byId("event-type", HTMLInputElement).value;
    try {
      await api.sendEvent(this.workflow, this.id, type, parseJsonField(byId("event-payload", HTMLInputElement).value, "The payload"));
      notices.say(`event ${type} sent`);
      this.changed();
    } catch (error) {
      notices.fail(error);
    }
  }
}
