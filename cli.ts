#!/usr/bin/env node
/**
 * The `durable-machines` command (package.json's bin): `init` scaffolds a
 * Worker project; the other commands drive a running Worker through its HTTP
 * API. The commands live in cli/; this file connects them to the process.
 */
import { main } from "./cli/main";

const columns = process.stdout.isTTY ? process.stdout.columns : Number.POSITIVE_INFINITY;

process.exitCode = await main(process.argv.slice(2), {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  env: process.env,
  cwd: process.cwd(),
  columns,
  now: Date.now,
});
