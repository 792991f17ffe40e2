/**
 * The CLI's failures, each with its exit code: 2 for a command line the CLI
 * cannot run (the user fixes the command), 1 for an API that refused or
 * could not be reached (the user fixes the request or the server).
 */
export class UsageError extends Error {
  readonly exitCode = 2;
  override name = "UsageError";
}

/** The API answered `{ error: { code, message } }` (or an answer that is not the API's, under a code of our own). */
export class ApiFailure extends Error {
  readonly exitCode = 1;
  override name = "ApiFailure";
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/** No HTTP answer at all: nothing listens at the URL, or the connection broke. */
export class UnreachableError extends Error {
  readonly exitCode = 1;
  override name = "UnreachableError";
}
