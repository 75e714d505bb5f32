import { describe, expectTypeOf, test } from 'vitest';
import { connect, type ApiCheck, type ApiShape, type Client } from '../../src/index';
import { createServer } from '../../src/server/index';
import { createWirefallReact, useClient, useSend, useSubscription, WirefallProvider } from '../../src/react/index';

/*
 * connect<Api>(), createServer<Api>() and the React bindings refuse, at compile time, an API whose
 * messages or calls name a value that cannot make the trip, without the app writing SendableApi.
 */

interface Profile {
  name: string;
  avatar?: Uint8Array;
}
type Files = {
  client: { put: { name: string; body: Uint8Array; raw: ArrayBuffer; tags: readonly string[]; meta?: { size: number | null } }; ping: null };
  server: { got: { parts: Uint8Array[]; pair: [number, string]; profile: Profile; any: unknown } };
  rpc: { thumb: [{ image: Uint8Array }, { small: Uint8Array; size: number }]; count: [null, number] };
};

type BadDate = { client: { at: { when: Date } }; server: {} };
type BadMap = { client: {}; server: { m: Map<string, string> } };
type BadSet = { client: { s: { ids: Set<number> } }; server: {} };
type BadFunction = { client: { f: { cb: () => void } }; server: {} };
type BadInstance = { client: {}; server: { user: { born: number; age(): number } } };
type BadBigint = { client: { n: { big: bigint } }; server: {} };
type BadUndefinedInArray = { client: { list: { items: (string | undefined)[] } }; server: {} };
type BadRpcArgument = { client: {}; server: {}; rpc: { find: [{ since: Date }, string[]] } };
type BadRpcReply = { client: {}; server: {}; rpc: { load: [{ id: string }, { rows: Map<string, number> }] } };
type BadFloat32 = { client: { samples: { data: Float32Array } }; server: {} };

describe('the client: connect<Api>()', () => {
  test('takes an API of JSON values and bytes (Uint8Array, ArrayBuffer), optional fields, tuples, interfaces, unknown', () => {
    const c = connect<Files>('http://h/wf');
    expectTypeOf(c).toEqualTypeOf<Client<Files>>();
    void c.send('put', { name: 'a', body: new Uint8Array(1), raw: new ArrayBuffer(2), tags: ['x'] });
    expectTypeOf(connect('http://h/wf')).toMatchTypeOf<Client>(); // untyped: any Wire
  });

  test('refuses a Date, a Map, a Set, a function, a method, a bigint, undefined in an array, another typed array', () => {
    // @ts-expect-error a Date would arrive as a string
    connect<BadDate>('http://h/wf');
    // @ts-expect-error a Map would arrive as {}
    connect<BadMap>('http://h/wf');
    // @ts-expect-error a Set would arrive as {}
    connect<BadSet>('http://h/wf');
    // @ts-expect-error a function is dropped
    connect<BadFunction>('http://h/wf');
    // @ts-expect-error an instance with a method
    connect<BadInstance>('http://h/wf');
    // @ts-expect-error JSON cannot write a bigint
    connect<BadBigint>('http://h/wf');
    // @ts-expect-error undefined in an array arrives as null
    connect<BadUndefinedInArray>('http://h/wf');
    // @ts-expect-error a Float32Array would arrive as {"0":…}
    connect<BadFloat32>('http://h/wf');
  });

  test('refuses a call whose argument or reply cannot make the trip', () => {
    // @ts-expect-error a Date in a call's argument
    connect<BadRpcArgument>('http://h/wf');
    // @ts-expect-error a Map in a call's reply
    connect<BadRpcReply>('http://h/wf');
  });
});

describe('the server: createServer<Api>()', () => {
  test('takes the same valid API', () => {
    const server = createServer<Files>();
    server.on('connection', (conn) => {
      void conn.send('got', { parts: [new Uint8Array(1)], pair: [1, 'a'], profile: { name: 'x' }, any: 1 });
      conn.handle('thumb', ({ image }) => ({ small: image.subarray(0, 1), size: image.length }));
    });
  });

  test('refuses the same invalid ones', () => {
    // @ts-expect-error a Date
    createServer<BadDate>();
    // @ts-expect-error a Map
    createServer<BadMap>();
    // @ts-expect-error a method
    createServer<BadInstance>();
    // @ts-expect-error undefined in an array
    createServer<BadUndefinedInArray>();
    // @ts-expect-error a call's reply
    createServer<BadRpcReply>();
  });
});

describe('React: createWirefallReact<Api>() and the hooks that take an Api', () => {
  test('take a valid API', () => {
    const bound = createWirefallReact<Files>();
    expectTypeOf(bound.useSend()).parameter(0).toEqualTypeOf<'put' | 'ping'>();
    expectTypeOf(useClient<Files>()).toEqualTypeOf<Client<Files> | null>();
    useSubscription<Files, 'got'>('got', (d) => expectTypeOf(d.parts).toEqualTypeOf<Uint8Array[]>());
  });

  test('refuse an invalid one', () => {
    // @ts-expect-error a Date
    createWirefallReact<BadDate>();
    // @ts-expect-error a Map
    useClient<BadMap>();
    // @ts-expect-error a function
    useSend<BadFunction>();
    // @ts-expect-error a Set
    useSubscription<BadSet, never>('s' as never, () => {});
    // @ts-expect-error a Date
    WirefallProvider<BadDate>({ url: 'http://h/wf' });
  });
});

describe('the error names what cannot make the trip', () => {
  test('each refused part becomes a sentence the compiler shows', () => {
    expectTypeOf<ApiCheck<BadDate>['client']['at']['when']>().toEqualTypeOf<'a Date cannot make the trip: JSON values and Uint8Array/ArrayBuffer only'>();
    expectTypeOf<ApiCheck<BadMap>['server']['m']>().toEqualTypeOf<'a Map cannot make the trip: JSON values and Uint8Array/ArrayBuffer only'>();
    expectTypeOf<ApiCheck<BadInstance>['server']['user']['age']>().toEqualTypeOf<'a function (or a method) cannot make the trip: JSON values and Uint8Array/ArrayBuffer only'>();
    expectTypeOf<ApiCheck<BadBigint>['client']['n']['big']>().toEqualTypeOf<'a bigint cannot make the trip: JSON values and Uint8Array/ArrayBuffer only'>();
    expectTypeOf<ApiCheck<BadFloat32>['client']['samples']['data']>().toEqualTypeOf<'a typed array other than Uint8Array cannot make the trip: JSON values and Uint8Array/ArrayBuffer only'>();
    expectTypeOf<ApiCheck<BadRpcArgument>['rpc']>().toEqualTypeOf<
      { find: readonly [{ since: 'a Date cannot make the trip: JSON values and Uint8Array/ArrayBuffer only' }, string[]] } | undefined
    >();
  });

  test('a valid API is its own check, so it passes unchanged', () => {
    expectTypeOf<Files>().toMatchTypeOf<ApiShape & ApiCheck<Files>>();
  });

  test('a generic wrapper passes its Api on by declaring the same constraint', () => {
    const make = <Api extends ApiShape & ApiCheck<Api>>(url: string) => connect<Api>(url);
    expectTypeOf(make<Files>('http://h/wf')).toEqualTypeOf<Client<Files>>();
    // @ts-expect-error a Date
    make<BadDate>('http://h/wf');
  });
});
