/**
 * `work`, or the error `late()` makes if it has not settled within `ms`: every wait the server
 * makes on something outside it (the app's `authenticate`, Redis) has a deadline. The work itself
 * is not cancelled; its late result is ignored.
 */
export function withDeadline<T>(work: Promise<T>, ms: number, late: () => Error): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(late()), ms);
  });
  return Promise.race([work, expired]).finally(() => clearTimeout(timer));
}
