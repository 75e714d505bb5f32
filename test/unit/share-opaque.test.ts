import { afterEach, expect, test, vi } from 'vitest';
import { connect } from '../../src/index';
import { share } from '../../src/share/index';
import { fakeTransports } from '../support/fake-transport';

/*
 * An opaque origin (a sandboxed iframe without allow-same-origin, a data: URL) has
 * `navigator.locks` and `BroadcastChannel`, but Web Locks reject every request there with a
 * SecurityError (Web Locks spec, "request a lock"). share() took them as usable: the tab waited
 * for a lock it could never get, so it never led, never connected, and every send waited for ever.
 * Such a context keeps its own connection (role `solo`), as where the APIs are missing.
 */
afterEach(() => void vi.unstubAllGlobals());

test('in an opaque origin, share() keeps the context\'s own connection: role solo, and it connects', () => {
  vi.stubGlobal('origin', 'null');
  vi.stubGlobal('navigator', { locks: { request: () => Promise.reject(new DOMException('denied', 'SecurityError')) } });
  vi.stubGlobal('BroadcastChannel', class { onmessage = null; postMessage() {} close() {} });
  const t = fakeTransports();
  const c = connect('http://h.test/wf', { share: share(), transports: ['ws'], transportFactories: { ws: t.factory }, platform: { onWake: () => () => {} } });
  expect(c.role).toBe('solo');
  expect(t.made).toHaveLength(1);
  c.close();
});
