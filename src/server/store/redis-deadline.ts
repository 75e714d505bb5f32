import { withDeadline } from '../deadline';

/**
 * A deadline for a Redis command. node-redis gives up on a command only when its connection
 * drops; a Redis that hangs with its connections open (SIGSTOP, a frozen VM, a full-memory
 * stall) would hold every hello and HTTP request that waits on it for good. After the deadline
 * the caller treats Redis as away (a session runs from memory and writes itself whole again once
 * Redis answers; docs/scaling.md §3). The command itself stays queued on the connection, which is
 * why the publishing connection's queue is bounded too (`commandsQueueMaxLength`).
 */
export const REDIS_COMMAND_TIMEOUT_MS = 3000;

export class RedisTimeoutError extends Error {
  constructor(what: string, ms: number) {
    super(`redis did not answer ${what} within ${ms} ms`);
    this.name = 'RedisTimeoutError';
  }
}

export function within<T>(command: Promise<T>, what: string, ms = REDIS_COMMAND_TIMEOUT_MS): Promise<T> {
  return withDeadline(command, ms, () => new RedisTimeoutError(what, ms));
}
