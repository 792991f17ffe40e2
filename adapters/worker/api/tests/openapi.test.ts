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

/** The document as a client reads it, and the routes the app serves, as "METHOD /path/{param}". */
async function documentAndRoutes(withInspect: boolean) {
  const api = apiHost(withInspect ? { inspect } : {});
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

  it("is OpenAPI 3.1, and documents exactly the routes the app serves, with the inspection socket only where the host has one", async () => {
    for (const withInspect of [false, true]) {
      const { doc, served, documented } = await documentAndRoutes(withInspect);
      expect(doc.openapi).toBe("3.1.0");
      expect([...documented].sort()).toEqual([...served].sort());
      expect(served.has("GET /api/workflows/{name}/instances/{id}/inspect")).toBe(withInspect);
      expect(served.size).toBe(withInspect ? 19 : 18);
    }
  });

  it("gives each operation its path parameters, its query, its body schema, its answers and every error it can answer with", async () => {
    const { doc } = await documentAndRoutes(true);
    const endpoints = apiEndpoints({ catalog: new WorkflowCatalog(WORKFLOWS), client: () => ({ workflow: () => ({}) as never }), token: () => "t", inspect }, () => ({}));
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
      expect(operation.security.map((scheme) => Object.keys(scheme)[0]), where).toEqual(spec.queryToken ? ["bearer", "queryToken"] : ["bearer"]);

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
});
