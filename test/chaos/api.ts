import { TOKEN } from "./server";

/** Where the server stands, as the run moves it: up, or killed and not yet answering again. */
export interface Liveness {
  /** Resolves at once while the server is up, else when it next is. */
  up(): Promise<void>;
  /** Bumped just before each kill: an answer from another generation than the request's was cut by a kill. */
  readonly generation: number;
  readonly url: string;
}

export type Outcome = { kind: "answer"; status: number; body: any } | { kind: "cut"; reason: string };

/** A server error that no kill explains, or a request that hung: reported as violations. */
export interface Unexplained {
  method: string;
  path: string;
  what: string;
}

const REQUEST_TIMEOUT_MS = 60_000;
/** How long one logical request may keep being cut off and sent again before the run gives up on it. */
const PERSIST_DEADLINE_MS = 180_000;

/**
 * The HTTP API as the run uses it: every request counted, and told apart by
 * what happened to it: answered, or cut off by a kill (the connection
 * dropped, or a 5xx while the server was being killed).
 */
export class ChaosApi {
  readonly figures = { sent: 0, accepted: 0, refused: 0, cutOff: 0 };
  readonly unexplained: Unexplained[] = [];
  /**
   * When each request was sent (epoch ms) and the instances it reached (their API paths; a create names the
   * instances it creates): whether an instance moved on its own after a restart, or was woken by the run.
   */
  readonly sentAt: { reached: string[]; at: number }[] = [];

  constructor(private readonly server: Liveness) {}

  /** One request, sent once the server is up. */
  async send(method: string, path: string, body?: unknown, reached: string[] = [path]): Promise<Outcome> {
    await this.server.up();
    const generation = this.server.generation;
    this.figures.sent++;
    const sentAt = Date.now();
    this.sentAt.push({ reached, at: sentAt });
    try {
      const response = await fetch(`${this.server.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${TOKEN}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      const text = await response.text();
      if (response.status >= 500) {
        this.figures.cutOff++;
        if (generation === this.server.generation) this.unexplained.push({ method, path, what: `${response.status} ${text.slice(0, 500)} (server ${generation}, sent ${new Date(sentAt).toISOString()})` });
        return { kind: "cut", reason: `${response.status}` };
      }
      if (response.ok) this.figures.accepted++;
      else this.figures.refused++;
      return { kind: "answer", status: response.status, body: text ? JSON.parse(text) : undefined };
    } catch (error) {
      this.figures.cutOff++;
      const reason = error instanceof Error ? `${error.name}: ${error.message}${error.cause instanceof Error ? ` (${error.cause.message})` : ""}` : String(error);
      if (generation === this.server.generation) this.unexplained.push({ method, path, what: `no answer and no kill meanwhile: ${reason} (server ${generation}, sent ${new Date(sentAt).toISOString()}, failed ${new Date().toISOString()})` });
      return { kind: "cut", reason };
    }
  }

  /** Sends the same request until it is answered (a kill cut it off, it goes again once the server is back). */
  async persist(method: string, path: string, body?: unknown, onCut?: (reason: string) => void, reached?: string[]): Promise<{ status: number; body: any }> {
    const deadline = performance.now() + PERSIST_DEADLINE_MS;
    for (;;) {
      const outcome = await this.send(method, path, body, reached);
      if (outcome.kind === "answer") return outcome;
      onCut?.(outcome.reason);
      if (performance.now() > deadline) throw new Error(`${method} ${path} was cut off until the deadline (${PERSIST_DEADLINE_MS / 1000} s); last: ${outcome.reason}`);
      // Let a kill that is under way close the server before trying again.
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** A read that must succeed: any answer but 2xx is an error naming the request. */
  async read<T>(path: string): Promise<T> {
    const answer = await this.persist("GET", path);
    if (answer.status !== 200) throw new Error(`GET ${path} answered ${answer.status}: ${JSON.stringify(answer.body)}`);
    return answer.body as T;
  }
}
