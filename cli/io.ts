/** What a command may touch of the world, so that tests run the CLI in-process and see all it does. */
export interface CliIo {
  /** Writes to standard output, as is. */
  out(text: string): void;
  /** Writes to standard error, as is. */
  err(text: string): void;
  env: Readonly<Record<string, string | undefined>>;
  /** The folder `.dev.vars` is read from and `init` resolves its target against. */
  cwd: string;
  /** The width tables are cut to; Infinity when output is not a terminal, so piped tables keep every character. */
  columns: number;
  now(): number;
}
