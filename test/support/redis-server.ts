import { afterAll, beforeAll } from 'vitest';
import { startRedis, type RedisProcess } from '../../lab/redis';

export { freePort, startRedis, type RedisProcess } from '../../lab/redis';

/**
 * One redis-server for the whole test file: started before its first test, stopped after its
 * last. The returned handle is usable inside tests (not at the file's top level).
 */
export function redisForFile(): RedisProcess {
  let p: RedisProcess | undefined;
  beforeAll(async () => {
    p = await startRedis();
  });
  afterAll(async () => {
    await p?.close();
  });
  const live = () => p ?? (() => { throw new Error('redis-server is not started yet (use it inside a test)'); })();
  return {
    get port() {
      return live().port;
    },
    get url() {
      return live().url;
    },
    kill: () => live().kill(),
    restart: () => live().restart(),
    pause: () => live().pause(),
    resume: () => live().resume(),
    close: () => live().close(),
  };
}
