import type { Clock } from '../platform';

/** One timer per role, named by role (`retry`, `climb`, `ping`, `liveness`), on an injected clock. */
export class Timers<Role extends string> {
  #clock: Clock;
  #handles: Partial<Record<Role, unknown>> = {};

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** (Re)sets the timer of a role; without `fn`, just clears it. */
  set(role: Role, fn?: () => void, ms = 0): void {
    this.#clock.clearTimeout(this.#handles[role]);
    this.#handles[role] = fn && this.#clock.setTimeout(() => ((this.#handles[role] = undefined), fn()), ms);
  }

  clear(): void {
    for (const role in this.#handles) this.set(role);
  }
}
