/** Polls `read` until `done` holds, and fails with the last value seen if it never does. */
export async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, what: string, attempts = 400): Promise<T> {
  let last: T | undefined;
  for (let i = 0; i < attempts; i++) {
    last = await read();
    if (done(last)) return last;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`Gave up waiting for ${what}; last seen: ${JSON.stringify(last)}`);
}
