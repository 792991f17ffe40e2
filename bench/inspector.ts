/**
 * workerd's V8 inspector, for the bench's memory and CPU figures: each Worker of the process (ours, and each of
 * Cloudflare's local Workflows engines) is its own isolate and its own inspector target. The Chrome DevTools
 * Protocol over Node's WebSocket; only the few methods the bench needs.
 */

export interface Target {
  id: string;
  webSocketDebuggerUrl: string;
}

export async function inspectorTargets(inspector: URL): Promise<Target[]> {
  const response = await fetch(new URL("/json/list", inspector.href.replace(/^ws/, "http")));
  return (await response.json()) as Target[];
}

/** A sampled CPU profile as V8 returns it. */
export interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number }; children?: number[] }[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export class InspectorSession {
  private next = 1;
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();

  private readonly socket: WebSocket;

  private constructor(socket: WebSocket) {
    this.socket = socket;
    socket.addEventListener("message", (event) => {
      const message = JSON.parse(String(event.data)) as { id?: number; result?: unknown; error?: { message: string } };
      const waiter = message.id === undefined ? undefined : this.pending.get(message.id);
      if (!waiter) return;
      this.pending.delete(message.id!);
      if (message.error) waiter.reject(new Error(message.error.message));
      else waiter.resolve(message.result);
    });
  }

  static async open(target: Target): Promise<InspectorSession> {
    const socket = new WebSocket(target.webSocketDebuggerUrl);
    await new Promise<void>((resolve, reject) => {
      socket.addEventListener("open", () => resolve(), { once: true });
      socket.addEventListener("error", () => reject(new Error(`The inspector of ${target.id} did not open.`)), { once: true });
    });
    return new InspectorSession(socket);
  }

  send<T = unknown>(method: string, params: Record<string, unknown> = {}): Promise<T> {
    const id = this.next++;
    const answer = new Promise<T>((resolve, reject) => this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject }));
    this.socket.send(JSON.stringify({ id, method, params }));
    return answer;
  }

  /**
   * Bytes the isolate's heap holds once garbage is collected. workerd's inspector leaves HeapProfiler.collectGarbage
   * unanswered, so a heap snapshot (which collects first) forces the collection; its chunks are dropped unread.
   */
  async heapUsed(): Promise<number> {
    await this.send("HeapProfiler.enable");
    await this.send("HeapProfiler.takeHeapSnapshot", { reportProgress: false });
    return (await this.send<{ usedSize: number }>("Runtime.getHeapUsage")).usedSize;
  }

  /** Samples the isolate's stacks every `intervalUs` while `during` runs. */
  async profile<T>(intervalUs: number, during: () => Promise<T>): Promise<{ result: T; profile: CpuProfile }> {
    await this.send("Profiler.enable");
    await this.send("Profiler.setSamplingInterval", { interval: intervalUs });
    await this.send("Profiler.start");
    const result = await during();
    const { profile } = await this.send<{ profile: CpuProfile }>("Profiler.stop");
    await this.send("Profiler.disable");
    return { result, profile };
  }

  close(): void {
    this.socket.close();
  }
}
