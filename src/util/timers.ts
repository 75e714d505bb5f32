import type { Clock } from '../platform';

/** Arms, re-arms or clears the timer of a role (see `timers`). */
export type SetTimer<Role extends string> = (role?: Role, fn?: () => void, ms?: number) => void;

/**
 * One timer per role (`retry`, `climb`, `ping`, `liveness`), on an injected clock: `set(role, fn,
 * ms)` (re)arms it, `set(role)` clears it, `set()` clears every one. A function, not a class:
 * the client bundle pays for every `this.#field` (scripts/size.mjs).
 */
export function timers<Role extends string>(clock: Clock): SetTimer<Role> {
  const handles: Partial<Record<Role, unknown>> = {};
  const set: SetTimer<Role> = (role, fn, ms = 0) => {
    if (!role) for (const r in handles) set(r);
    else {
      clock.clearTimeout(handles[role]);
      handles[role] = fn && clock.setTimeout(fn, ms);
    }
  };
  return set;
}
