/** A workflow's params as the machine needs them, or an error that says what to send. */
export function required<T>(value: T | undefined | null, message: string): T {
  if (value === undefined || value === null) throw new Error(message);
  return value;
}
