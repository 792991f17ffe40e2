import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import { apiHost, TOKEN } from "../../adapters/worker/api/tests/api-host";
import { main } from "../main";
import type { CliIo } from "../io";

/** A node:http request as the fetch Request the Hono app takes. */
function toRequest(req: IncomingMessage, origin: string): Request {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (Array.isArray(value)) for (const v of value) headers.append(name, v);
    else if (value !== undefined) headers.set(name, value);
  }
  const hasBody = req.method !== "GET" && req.method !== "HEAD";
  return new Request(new URL(req.url ?? "/", origin), {
    method: req.method ?? "GET",
    headers,
    ...(hasBody ? { body: Readable.toWeb(req) as ReadableStream<Uint8Array>, duplex: "half" } : {}),
  } as RequestInit);
}

/** Writes the app's Response, streaming its body as it comes (the event stream's events one by one); a client that hangs up cancels it. */
async function send(response: Response, res: ServerResponse): Promise<void> {
  res.writeHead(response.status, Object.fromEntries(response.headers));
  if (!response.body) return void res.end();
  const reader = response.body.getReader();
  res.on("close", () => void reader.cancel().catch(() => undefined));
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    res.write(value);
  }
  res.end();
}

/**
 * The HTTP API over a memory host on a manual clock (the API tests' own
 * fixture), served by node:http on a free port, as `wrangler dev` serves the
 * Worker: the CLI talks to it over real HTTP.
 */
export async function startApiServer() {
  const api = apiHost();
  const server = createServer((req, res) => {
    const origin = `http://${req.headers.host ?? "127.0.0.1"}`;
    Promise.resolve(api.app.fetch(toRequest(req, origin)))
      .then((response) => send(response, res))
      .catch((error: unknown) => {
        res.destroy(error instanceof Error ? error : new Error(String(error)));
      });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    ...api,
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export type ApiServer = Awaited<ReturnType<typeof startApiServer>>;

export interface CliRun {
  code: number;
  out: string;
  err: string;
}

/**
 * Runs the CLI in-process against `server`, with its URL and token in the
 * environment (unless `env` says otherwise), times seen from the host's clock.
 */
export async function runCli(server: ApiServer, argv: string[], io: Partial<CliIo> & { onOut?: (text: string) => void } = {}): Promise<CliRun> {
  let out = "";
  let err = "";
  const code = await main(argv, {
    env: { DURABLE_MACHINES_URL: server.url, DURABLE_MACHINES_TOKEN: TOKEN },
    cwd: process.cwd(),
    columns: 120,
    now: () => server.clock.now(),
    ...io,
    out: (text) => {
      out += text;
      io.onOut?.(out);
    },
    err: (text) => void (err += text),
  });
  return { code, out, err };
}
