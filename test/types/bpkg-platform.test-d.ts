import { describe, expectTypeOf, test } from 'vitest';
import WS from 'ws';
import { connect, type ClientOptions, type Platform, type WebSocketConstructor } from '../../src/index';

// The implementations users actually pass must fit the option types without a cast: README tells
// Node 18/20 users to pass `ws`, and a worker or a test may pass the platform's own classes.
describe('platform implementations fit without a cast', () => {
  test('the ws package is a WebSocketConstructor (README: Node 18 and 20)', () => {
    expectTypeOf(WS).toMatchTypeOf<WebSocketConstructor>();
    connect('http://127.0.0.1:1/wf', { WebSocket: WS });
  });

  test("the DOM's WebSocket, fetch and BroadcastChannel fit", () => {
    const options: ClientOptions = { WebSocket, fetch };
    const channel: Platform['channel'] = (name) => new BroadcastChannel(name);
    expectTypeOf(options).toMatchTypeOf<ClientOptions>();
    expectTypeOf(channel).not.toBeUndefined();
  });
});

// Options built the way apps build them: `as const` lists. (Values that may be undefined, under
// `exactOptionalPropertyTypes`, are checked by test/package/consumer-strict.mts.)
describe('options as apps write them', () => {
  test('readonly (as const) transports and rungs', () => {
    const transports = ['sse', 'longpoll'] as const;
    const rungs = [{ name: 'sse', url: 'http://127.0.0.1:1/wf' }] as const;
    expectTypeOf({ transports }).toMatchTypeOf<ClientOptions>();
    expectTypeOf({ rungs }).toMatchTypeOf<ClientOptions>();
  });
});

// docs/react.md: the plain hooks, without a message map, take any name; their data is `Wire`
// (what can make the trip), as an untyped client's.
import { useSend, useSubscription } from '../../src/react/index';
import type { Wire } from '../../src/index';
describe('plain React hooks', () => {
  test('data is Wire, on both sides', () => {
    useSubscription('anything', (d) => expectTypeOf(d).toEqualTypeOf<Wire>());
    expectTypeOf(useSend()).parameter(1).toEqualTypeOf<Wire>();
  });
});
