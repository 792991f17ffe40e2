import { ApiFailure, UnreachableError } from "./errors";
import type { Connection } from "./connection";

/** A path under /api from its segments, each percent-encoded, and optional query parameters (undefined ones left out). */
export function apiPath(segments: readonly string[], query: Record<string, string | number | undefined> = {}): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value !== undefined) search.append(key, String(value));
  const path = `/api/${segments.map(encodeURIComponent).join("/")}`;
  return search.size ? `${path}?${search}` : path;
}

/** The HTTP API of one Worker, as the commands use it: JSON in and out, every refusal thrown as an ApiFailure. */
export class ApiClient {
  constructor(private readonly connection: Connection) {}

  /** Sends a request and returns the raw answer; only a failure to reach the server throws. */
  async send(method: string, path: string, init: { body?: unknown; headers?: Record<string, string> } = {}): Promise<Response> {
    const headers: Record<string, string> = { ...init.headers };
    if (this.connection.token) headers.authorization = `Bearer ${this.connection.token}`;
    if (init.body !== undefined) headers["content-type"] = "application/json";
    try {
      return await fetch(`${this.connection.url}${path}`, { method, headers, ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }) });
    } catch (error) {
      const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : String(error);
      throw new UnreachableError(`Could not reach ${this.connection.url} (${cause}). Is the Worker running (\`npx wrangler dev\`)? Pass its address with --url.`);
    }
  }

  /** A JSON request; an answer that is not 2xx is thrown as the API's error. */
  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await this.send(method, path, body === undefined ? {} : { body });
    if (!response.ok) throw await this.failure(response);
    const text = await response.text();
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new ApiFailure(`http.${response.status}`, `${this.connection.url} answered ${response.status} with something other than JSON: is --url the Worker serving durable-machines? ${text.slice(0, 200)}`.trim(), response.status);
    }
  }

  /** The API's `{ error: { code, message } }` as an ApiFailure, with a hint where the token is the likely cause. */
  async failure(response: Response): Promise<ApiFailure> {
    const text = await response.text();
    let error: { code?: unknown; message?: unknown } | undefined;
    try {
      error = (JSON.parse(text) as { error?: typeof error }).error;
    } catch {
      error = undefined;
    }
    if (typeof error?.code !== "string" || typeof error.message !== "string") {
      return new ApiFailure(`http.${response.status}`, `${this.connection.url} answered ${response.status} ${response.statusText} without an API error: is --url the Worker serving durable-machines? ${text.slice(0, 200)}`.trim(), response.status);
    }
    return new ApiFailure(error.code, error.message + this.tokenHint(error.code), response.status);
  }

  private tokenHint(code: string): string {
    if (code !== "auth.invalid") return "";
    return this.connection.tokenFrom
      ? ` (the token came from ${this.connection.tokenFrom})`
      : " (no token was found: pass --token, set DURABLE_MACHINES_TOKEN or API_TOKEN, or run in the folder whose .dev.vars sets API_TOKEN)";
  }
}
