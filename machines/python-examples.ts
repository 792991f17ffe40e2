import { defineWorkflow } from "../index";

/**
 * The Python examples (examples/python), as the engine registers them: their
 * run() is Python, run by a worker process (`python -m durable_machines
 * worker app:workflows`) that claims their instances. The names are those
 * examples/python/app.py serves them under.
 */
export const pythonExamples = [
  defineWorkflow({ name: "python-training-loop", python: { leaseMs: 30_000 } }),
  defineWorkflow({ name: "python-data-pipeline", python: { leaseMs: 30_000 } }),
  defineWorkflow({ name: "python-grocery-agent", python: { leaseMs: 30_000 } }),
];
