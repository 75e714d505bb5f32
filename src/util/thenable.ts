/** True for a promise or any thenable (Promises/A+: an object or function with a `then` method). */
export const isThenable = (x: unknown): x is PromiseLike<unknown> => typeof (x as { then?: unknown } | null | undefined)?.then === 'function';
