import { describe, expectTypeOf, test } from 'vitest';
import { connect, logClient, type Client, type WirefallError, type ErrorCode } from '../../src/index';
import { createServer, type Connection } from '../../src/server/index';
import * as wirefall from '../../src/index';

type Chat = {
  client: { say: { text: string }; typing: null };
  server: { said: { from: string; text: string } };
};

describe('client types', () => {
  const client = connect<Chat>('http://h/wf');

  test('send accepts client-side names with their data shape', () => {
    expectTypeOf(client.send('say', { text: 'hi' })).toEqualTypeOf<Promise<void>>();
    expectTypeOf(client.send).parameter(0).toEqualTypeOf<'say' | 'typing'>();
    // @ts-expect-error unknown message name
    void client.send('shout', { text: 'hi' });
    // @ts-expect-error a server-side name cannot be sent by the client
    void client.send('said', { from: 'x', text: 'y' });
    // @ts-expect-error wrong data shape
    void client.send('say', { txt: 'hi' });
    // @ts-expect-error wrong field type
    void client.send('say', { text: 42 });
  });

  test('the event log is logClient, not a connect option; logger takes configuration warnings', () => {
    expectTypeOf(logClient(client, console, 'debug')).toEqualTypeOf<() => void>();
    logClient(client, { warn: () => {} });
    // @ts-expect-error not a level
    logClient(client, console, 'silent');
    // @ts-expect-error logLevel went with the log (use logClient)
    connect('http://h/wf', { logLevel: 'info' });
    connect('http://h/wf', { logger: console });
  });

  test('subscribe accepts server-side names and types the handler', () => {
    const off = client.subscribe('said', (m) => {
      expectTypeOf(m).toEqualTypeOf<{ from: string; text: string }>();
    });
    expectTypeOf(off).toEqualTypeOf<() => void>();
    // @ts-expect-error a client-side name cannot be subscribed to
    client.subscribe('say', () => {});
    // @ts-expect-error the handler's argument has the server's shape
    client.subscribe('said', (m: { nope: number }) => m);
  });

  test('events and errors are typed', () => {
    client.on('state', (state, rung) => {
      expectTypeOf(state).toEqualTypeOf<'connecting' | 'open' | 'reconnecting' | 'closed'>();
      expectTypeOf(rung).toEqualTypeOf<'wss' | 'ws' | 'sse' | 'longpoll' | null>();
    });
    client.on('error', (e) => {
      expectTypeOf(e).toEqualTypeOf<WirefallError>();
      expectTypeOf(e.code).toEqualTypeOf<ErrorCode>();
      expectTypeOf(e.status).toEqualTypeOf<number | undefined>();
    });
    // @ts-expect-error unknown event
    client.on('opened', () => {});
    expectTypeOf(client).toEqualTypeOf<Client<Chat>>();
  });

  test('a typed client still fits where an untyped one is expected (code written for any API)', () => {
    const untyped: Client = client;
    void untyped;
  });
});

describe('server types mirror the client', () => {
  const server = createServer<Chat, { name: string }>();
  test('a connection sends server-side names and subscribes to client-side ones', () => {
    server.on('connection', (conn) => {
      expectTypeOf(conn).toEqualTypeOf<Connection<Chat, { name: string }>>();
      expectTypeOf(conn.user).toEqualTypeOf<{ name: string }>();
      void conn.send('said', { from: 'a', text: 'b' });
      // @ts-expect-error a client-side name cannot be sent by the server
      void conn.send('say', { text: 'x' });
      conn.subscribe('say', (d) => expectTypeOf(d).toEqualTypeOf<{ text: string }>());
      // @ts-expect-error a server-side name cannot be subscribed to on the server
      conn.subscribe('said', () => {});
    });
    server.broadcast('said', { from: 'a', text: 'b' });
    // @ts-expect-error wrong broadcast shape
    server.broadcast('said', { text: 'b' });
  });
  test('rooms are typed like broadcast', () => {
    server.on('connection', (conn) => {
      expectTypeOf(conn.join('lobby')).toEqualTypeOf<boolean>();
      expectTypeOf(conn.rooms).toEqualTypeOf<string[]>();
      server.to('lobby').broadcast('said', { from: 'a', text: 'b' }, { except: conn });
      // @ts-expect-error a client-side name cannot go to a room
      server.to('lobby').broadcast('say', { text: 'x' });
      // @ts-expect-error wrong shape
      server.to('lobby').broadcast('said', { text: 'b' });
    });
  });
});

describe('Client is a type, not a class to construct', () => {
  test('new Client() does not compile (connect() makes clients; the constructor is internal)', () => {
    // @ts-expect-error Client is exported as a type only
    expectTypeOf(wirefall.Client).not.toBeNever();
  });
});
