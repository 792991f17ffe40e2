import { describe, expect, it } from "vitest";
import { WorkflowCatalog } from "../../../../runtime/catalog";
import { apiEndpoints, type ApiHost } from "../app";
import { refusals } from "../endpoint";
import { ERROR_STATUS } from "../error-codes";
import { apiHost, expectError, WORKFLOWS } from "./api-host";

type Operation = {
  parameters?: { name: string; in: string; required?: boolean; schema: unknown }[];
  requestBody?: { content: Record<string, { schema: unknown }> };
  responses: Record<string, { description: string; content?: Record<string, { schema: any }> }>;
  security: Record<string, string[]>[];
};

const inspect: ApiHost["inspect"] = async () => new Response(null);

const python: ApiHost["python"] = () => ({}) as never;

/** The document as a client reads it, and the routes the app serves, as "METHOD /path/{param}". */
async function documentAndRoutes(withInspect: boolean, withPython = true) {
  const api = apiHost({ ...(withInspect ? { inspect } : {}), ...(withPython ? {} : { withoutPython: true }) });
  const reply = await api.get("/api/openapi.json");
  expect(reply.status).toBe(200);
  const doc = JSON.parse(reply.text) as { openapi: string; paths: Record<string, Record<string, Operation>>; components: { securitySchemes: Record<string, unknown> } };
  const served = new Set(api.app.routes.filter((route) => route.method !== "ALL").map((route) => `${route.method} ${route.path.replaceAll(/:(\w+)/g, "{$1}")}`));
  const documented = new Set(Object.entries(doc.paths).flatMap(([path, operations]) => Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`)));
  return { doc, served, documented };
}

describe("the OpenAPI 3.1 document at GET /api/openapi.json", () => {
  it("is behind the token like every /api route", async () => {
    expectError(await apiHost().call("GET", "/api/openapi.json", { headers: {} }), 401, "auth.invalid", expect);
  });

  it("is OpenAPI 3.1, and documents exactly the routes the app serves, with the inspection socket and the Python worker routes only where the host has them", async () => {
    const workerRoutes = ["claim", "instances/{id}/calls", "instances/{id}/heartbeat", "instances/{id}/release"].map((route) => `POST /api/python/v1/workflows/{workflow}/${route}`);
    for (const withInspect of [false, true]) {
      for (const withPython of [false, true]) {
        const { doc, served, documented } = await documentAndRoutes(withInspect, withPython);
        expect(doc.openapi).toBe("3.1.0");
        expect([...documented].sort()).toEqual([...served].sort());
        expect(served.has("GET /api/workflows/{name}/instances/{id}/inspect")).toBe(withInspect);
        for (const route of workerRoutes) expect(served.has(route), route).toBe(withPython);
        expect(served.has("POST /api/tickets")).toBe(true);
        expect(served.has("GET /api/workflows/{name}/changes")).toBe(true);
        expect(served.size).toBe(21 + (withInspect ? 1 : 0) + (withPython ? 4 : 0));
        expect(Object.keys(doc.components.securitySchemes).sort()).toEqual(withPython ? ["bearer", "ticket", "workerBearer"] : ["bearer", "ticket"]);
      }
    }
  });

  it("gives each operation its path parameters, its query, its body schema, its answers and every error it can answer with", async () => {
    const { doc } = await documentAndRoutes(true);
    const endpoints = apiEndpoints({ catalog: new WorkflowCatalog(WORKFLOWS), client: () => ({ workflow: () => ({}) as never }), token: () => "t", inspect, python }, () => ({}));
    for (const spec of endpoints) {
      const operation = doc.paths[spec.path]![spec.method]!;
      const where = `${spec.method} ${spec.path}`;
      const pathNames = [...spec.path.matchAll(/\{(\w+)\}/g)].map(([, name]) => name);
      const parameters = operation.parameters ?? [];
      expect(parameters.filter((p) => p.in === "path").map((p) => [p.name, p.required]), where).toEqual(pathNames.map((name) => [name, true]));
      expect(parameters.filter((p) => p.in === "query").map((p) => p.name).sort(), where).toEqual(Object.keys(spec.query?.shape ?? {}).sort());
      if (spec.body) expect(operation.requestBody?.content["application/json"]?.schema, where).toBeDefined();
      else expect(operation.requestBody, where).toBeUndefined();
      for (const status of Object.keys(spec.answers)) expect(operation.responses[status], `${where} ${status}`).toBeDefined();
      expect(operation.security.map((scheme) => Object.keys(scheme)[0]), where).toEqual(spec.workerToken ? ["workerBearer"] : spec.ticket ? ["bearer", "ticket"] : ["bearer"]);

      // The error answers list every code the route can refuse with, each under the status the table gives it.
      const documentedCodes = Object.entries(operation.responses)
        .filter(([status]) => Number(status) >= 400)
        .flatMap(([status, answer]) => {
          const codes = answer.content!["application/json"]!.schema.properties.error.properties.code.enum as string[];
          for (const code of codes) expect(ERROR_STATUS[code as keyof typeof ERROR_STATUS], `${where}: ${code}`).toBe(Number(status));
          return codes;
        });
      expect(documentedCodes.sort(), where).toEqual(refusals(spec).sort());
      for (const code of ["auth.invalid", "auth.not_configured", "internal"]) expect(documentedCodes, where).toContain(code);
    }
  });

  it("describes the body limits and bounds the validators enforce", async () => {
    const { doc } = await documentAndRoutes(false);
    const schemas = (doc as unknown as { components: { schemas: Record<string, any> } }).components.schemas;
    expect(schemas.CreateBatch.properties.count).toMatchObject({ type: "integer", minimum: 1, maximum: 100 });
    expect(schemas.CreateBatch.properties.instances).toMatchObject({ minItems: 1, maxItems: 100 });
    expect(schemas.SendEvent.properties.idempotencyKey).toMatchObject({ minLength: 1, maxLength: 256 });
    expect(schemas.DeleteBatch.properties.ids).toMatchObject({ minItems: 1, maxItems: 100 });
    const limit = doc.paths["/api/workflows/{name}/instances"]!.get!.parameters!.find((p) => p.name === "limit")!;
    expect(limit.schema).toMatchObject({ type: "string", pattern: "^[0-9]{1,16}$" });
  });

  it("describes the Python worker routes' bodies with their bounds, and their answers", async () => {
    const { doc } = await documentAndRoutes(false);
    const schemas = (doc as unknown as { components: { schemas: Record<string, any> } }).components.schemas;
    expect(schemas.PythonClaim.properties.protocol).toMatchObject({ enum: [1] });
    expect(schemas.PythonClaim.properties.worker).toMatchObject({ minLength: 1, maxLength: 256 });
    expect(schemas.PythonClaim.properties.waitMs).toMatchObject({ minimum: 0, maximum: 25_000 });
    expect(schemas.PythonCalls.properties.calls).toMatchObject({ minItems: 1, maxItems: 1000 });
    expect(schemas.PythonCalls.properties.lease).toMatchObject({ minLength: 1, maxLength: 256 });
    expect(schemas.PythonHeartbeat.properties.waitMs).toMatchObject({ minimum: 0, maximum: 25_000 });
    expect(schemas.PythonRelease.required).toEqual(["protocol", "lease"]);
    expect(schemas.PythonError.properties.message).toMatchObject({ maxLength: 8192 });
    const calls = JSON.stringify(schemas.PythonCall);
    for (const type of ["step", "result", "sleep", "sleepUntil", "wait", "completed", "failed", "rollbackResult"]) expect(calls, type).toContain(`"enum":["${type}"]`);
    const claim = doc.paths["/api/python/v1/workflows/{workflow}/claim"]!.post!;
    expect(Object.keys(claim.responses)).toEqual(expect.arrayContaining(["200", "204", "400", "401", "404", "409"]));
    expect(claim.responses["200"]!.content!["application/json"]!.schema).toEqual({ $ref: "#/components/schemas/PythonTask" });
    expect(claim.responses["204"]!.content).toBeUndefined();
    for (const [route, answer] of [["calls", "PythonCallsAnswer"], ["heartbeat", "PythonHeartbeatAnswer"], ["release", "PythonReleaseAnswer"]]) {
      const operation = doc.paths[`/api/python/v1/workflows/{workflow}/instances/{id}/${route}`]!.post!;
      expect(operation.responses["200"]!.content!["application/json"]!.schema, route).toEqual({ $ref: `#/components/schemas/${answer}` });
      expect(operation.responses["409"]!.content!["application/json"]!.schema.properties.error.properties.code.enum.sort(), route).toEqual(["definition.mismatch", "lease.lost", "workflow.not_python"]);
    }
  });
});
