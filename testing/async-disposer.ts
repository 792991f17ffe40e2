/**
 * `await using` on the introspectors without naming `Symbol.asyncDispose` or `AsyncDisposable` in the emitted
 * declarations: a user's tsconfig with a `lib` older than ESNext (ES2022 is usual for Workers) has neither, and
 * would fail on our .d.ts files. `AsyncDisposer` is `{ [Symbol.asyncDispose]: () => Promise<void> }` where the
 * user's lib knows the symbol and `{}` where it does not; the method itself goes on the prototype at run time.
 */
type AsyncDisposeKey = SymbolConstructor extends { readonly asyncDispose: infer Key extends symbol } ? Key : never;
export type AsyncDisposer = { [Key in AsyncDisposeKey]: () => Promise<void> };

interface Disposing {
  dispose(): Promise<void>;
}

/** Gives the class's instances `[Symbol.asyncDispose]`, which calls their `dispose()`. */
export function disposeAsyncWith(target: { prototype: Disposing }): void {
  Object.defineProperty(target.prototype, Symbol.asyncDispose, {
    value(this: Disposing) {
      return this.dispose();
    },
    configurable: true,
    writable: true,
  });
}
