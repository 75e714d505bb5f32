import { expect, test } from 'vitest';
import { refusal } from '../../src/transports/http';

// Only the app's own decisions end the ladder: anything else may be a middlebox, or a request
// that reached the server mangled by one, and the next rung deserves its chance.
test.each([
  // [status, x-wirefall-error, code, fatal]
  [401, 'unauthorized', 'WF_UNAUTHORIZED', true],
  [403, 'origin', 'WF_UNAUTHORIZED', true],
  [426, 'upgrade_stripped', 'WF_UPGRADE_STRIPPED', false],
  [400, 'bad_request', 'WF_REFUSED', false],
  [404, 'session', 'WF_REFUSED', false],
  [500, 'server_error', 'WF_REFUSED', false],
  [403, undefined, 'WF_REFUSED', false],
  [401, undefined, 'WF_REFUSED', false],
  [502, undefined, 'WF_REFUSED', false],
  [407, undefined, 'WF_PROXY_AUTH', false],
  // A WebSocket upgrade answered 101 that Node's parser did not take as one (Connection rewritten).
  [101, undefined, 'WF_HANDSHAKE', false],
] as const)('HTTP %i with x-wirefall-error %s is %s (fatal: %s)', (status, ours, code, fatal) => {
  expect(refusal(status, ours)).toMatchObject({ code, status, fromServer: fatal });
});
