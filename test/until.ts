/**
 * Polls `read` until `done` holds, and fails with the last value seen if it
 * never does. The default gives up after 15 s or more, not sooner: a loaded
 * two-core CI machine can be that slow, and a condition that holds ends the
 * wait at once.
 */
export async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, what: string, attempts = 1500): Promise<T> {
  let last: T | undefined;
  for (let i = 0; i < attempts; i++) {
    last = await read();
    if (done(last)) return last;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`Gave up waiting for ${what}; last seen: ${JSON.stringify(last)}`);
}
