import { describe, expectTypeOf, test } from 'vitest';
import { connect, type Sendable, type SendableApi, type Wire } from '../../src/index';
import { createServer } from '../../src/server/index';

describe('what can be sent (Wire, Sendable, SendableApi)', () => {
  test('an untyped client and server take JSON values and bytes, anywhere in the data', () => {
    const c = connect('http://h/wf');
    void c.send('x', { n: 1, s: 'a', ok: true, none: null, list: [1, 'two'], nested: { deep: [{ a: 1 }] } });
    void c.send('bytes', new Uint8Array([1, 2]));
    void c.send('file', { name: 'a.png', body: new Uint8Array(4), raw: new ArrayBuffer(8) });
    const server = createServer();
    server.on('connection', (conn) => {
      void conn.send('x', { at: 1, blob: new Uint8Array(1) });
      server.broadcast('y', [new ArrayBuffer(2)]);
    });
  });

  test('an untyped client refuses a Date, a Map, a Set, a function and an instance with methods', () => {
    const c = connect('http://h/wf');
    // @ts-expect-error a Date would arrive as a string
    void c.send('x', { when: new Date() });
    // @ts-expect-error a Map would arrive as {}
    void c.send('x', new Map([[1, 2]]));
    // @ts-expect-error a Set would arrive as {}
    void c.send('x', { s: new Set([1]) });
    // @ts-expect-error a function is dropped by JSON
    void c.send('x', { f: () => 1 });
    // @ts-expect-error an instance with methods
    void c.send('x', new (class { m() {} })());
    const server = createServer();
    // @ts-expect-error the server's broadcast checks the same way
    server.broadcast('x', { when: new Date() });
  });

  test('Sendable<T> is T where every part can make the trip, never where a part cannot', () => {
    expectTypeOf<Sendable<{ a: string; b: Uint8Array[] }>>().toEqualTypeOf<{ a: string; b: Uint8Array[] }>();
    expectTypeOf<Sendable<{ when: Date }>>().toEqualTypeOf<{ when: never }>();
    expectTypeOf<Sendable<Map<string, number>>>().toEqualTypeOf<never>();
    expectTypeOf<Sendable<() => void>>().toEqualTypeOf<never>();
    expectTypeOf<Sendable<unknown>>().toEqualTypeOf<Wire>();
    expectTypeOf<{ when: Date }>().not.toMatchTypeOf<Sendable<{ when: Date }>>();
  });

  test('SendableApi<Api> accepts an API of JSON and bytes, and refuses one declaring a Date, a Map or a function', () => {
    type Files = SendableApi<{ client: { put: { name: string; body: Uint8Array } }; server: { got: { name: string } }; rpc: { size: [{ name: string }, number] } }>;
    const c = connect<Files>('http://h/wf');
    void c.send('put', { name: 'a', body: new Uint8Array(1) });
    // @ts-expect-error a Date in a message shape
    type BadDate = SendableApi<{ client: { at: { when: Date } }; server: {} }>;
    // @ts-expect-error a Map in a server message shape
    type BadMap = SendableApi<{ client: {}; server: { m: Map<string, string> } }>;
    // @ts-expect-error a function in a call's reply
    type BadRpc = SendableApi<{ client: {}; server: {}; rpc: { f: [{}, { cb: () => void }] } }>;
    expectTypeOf<BadDate | BadMap | BadRpc>().not.toBeNever();
  });
});
