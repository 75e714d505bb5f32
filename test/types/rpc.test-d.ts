import { describe, expectTypeOf, test } from 'vitest';
import { connect, type RequestOptions, type Wire } from '../../src/index';
import { createServer } from '../../src/server/index';

type User = { id: string; name: string };
type Api = {
  client: { say: { text: string } };
  server: { said: { text: string } };
  rpc: { getUser: [{ id: string }, User]; ping: [null, number] };
};

describe('request / reply types', () => {
  test('client.request takes the declared names and arguments, and resolves with the declared reply', () => {
    const c = connect<Api>('http://h/wf');
    expectTypeOf(c.request('getUser', { id: '1' })).toEqualTypeOf<Promise<User>>();
    expectTypeOf(c.request('ping', null, { timeout: 100 })).toEqualTypeOf<Promise<number>>();
    expectTypeOf<RequestOptions>().toEqualTypeOf<{ timeout?: number }>();
    // @ts-expect-error unknown call
    void c.request('getUsers', { id: '1' });
    // @ts-expect-error wrong argument shape
    void c.request('getUser', { id: 1 });
    // @ts-expect-error a message name is not a call
    void c.request('say', { text: 'x' });
  });

  test('an API without rpc has no calls; an untyped client calls anything with Wire values', () => {
    const typed = connect<{ client: { a: null }; server: {} }>('http://h/wf');
    // @ts-expect-error no rpc declared
    void typed.request('anything', null);
    const untyped = connect('http://h/wf');
    expectTypeOf(untyped.request('anything', { n: 1 })).toEqualTypeOf<Promise<Wire>>();
  });

  test('conn.handle gets the typed argument and must return the declared reply (or a promise of it)', () => {
    const server = createServer<Api>();
    server.on('connection', (conn) => {
      conn.handle('getUser', (args, c) => {
        expectTypeOf(args).toEqualTypeOf<{ id: string }>();
        expectTypeOf(c).toEqualTypeOf(conn);
        return { id: args.id, name: 'x' };
      });
      conn.handle('ping', async () => 1);
      // @ts-expect-error wrong reply shape
      conn.handle('getUser', () => ({ id: 1 }));
      // @ts-expect-error unknown call
      conn.handle('nope', () => null);
    });
  });
});
