// A promise a test settles from an event handler, rejected after `ms` so that no wait is unbounded.

export interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
}

export function deferred<T = void>(what: string, ms = 10_000): Deferred<T> {
  let resolve!: (value: T) => void;
  let timer: NodeJS.Timeout | undefined;
  const promise = new Promise<T>((ok, fail) => {
    resolve = (value) => {
      clearTimeout(timer);
      ok(value);
    };
    timer = setTimeout(() => fail(new Error(`${what}: nothing within ${ms} ms`)), ms);
  });
  void promise.catch(() => undefined); // awaited by the test; this only keeps an early failure from going unhandled
  return { promise, resolve };
}
