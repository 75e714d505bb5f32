import { createElement } from 'react';
import { describe, expectTypeOf, test } from 'vitest';
import { connect, type Client, type ConnectionState, type RungName, type Wire } from '../../src/index';
import {
  createWirefallReact,
  useClient,
  useConnection,
  useSend,
  useSubscription,
  WirefallProvider,
  type ConnectionSnapshot,
  type Send,
  type WirefallProviderProps,
} from '../../src/react/index';

type Chat = {
  client: { say: { text: string }; typing: null };
  server: { said: { from: string; text: string }; joined: { name: string } };
};

const chat = createWirefallReact<Chat>();

describe('createWirefallReact binds every hook to one message map', () => {
  test('useSubscription takes server-side names and types the handler', () => {
    chat.useSubscription('said', (m) => {
      expectTypeOf(m).toEqualTypeOf<{ from: string; text: string }>();
    });
    chat.useSubscription('joined', (m) => expectTypeOf(m.name).toEqualTypeOf<string>());
    expectTypeOf(chat.useSubscription).parameter(0).toEqualTypeOf<'said' | 'joined'>();
    // @ts-expect-error a client-side name cannot be subscribed to
    chat.useSubscription('say', () => {});
    // @ts-expect-error unknown name
    chat.useSubscription('shout', () => {});
    // @ts-expect-error the handler's argument has the server's shape
    chat.useSubscription('said', (m: { nope: number }) => m);
  });

  test('useSend returns a send for client-side names and shapes', () => {
    const send = chat.useSend();
    expectTypeOf(send).toEqualTypeOf<Send<Chat>>();
    expectTypeOf(send('say', { text: 'hi' })).toEqualTypeOf<Promise<void>>();
    void send('typing', null);
    expectTypeOf(send).parameter(0).toEqualTypeOf<'say' | 'typing'>();
    // @ts-expect-error a server-side name cannot be sent
    void send('said', { from: 'a', text: 'b' });
    // @ts-expect-error wrong shape
    void send('say', { txt: 'hi' });
    // @ts-expect-error wrong field type
    void send('say', { text: 1 });
    // @ts-expect-error data is required
    void send('say');
  });

  test('useClient and useConnection', () => {
    expectTypeOf(chat.useClient()).toEqualTypeOf<Client<Chat> | null>();
    const c = chat.useConnection();
    expectTypeOf(c).toEqualTypeOf<ConnectionSnapshot>();
    expectTypeOf(c.state).toEqualTypeOf<ConnectionState>();
    expectTypeOf(c.rung).toEqualTypeOf<RungName | null>();
    // @ts-expect-error the snapshot is read-only
    c.state = 'open';
  });

  test('the provider takes a client of the same map, or a url and options, not both', () => {
    const client = connect<Chat>('http://h/wf');
    createElement(chat.WirefallProvider, { client });
    createElement(chat.WirefallProvider, { url: 'http://h/wf', options: { transports: ['ws'] } });
    createElement(chat.WirefallProvider, { url: 'http://h/wf' });
    type Other = { client: { other: number }; server: Record<string, never> };
    // @ts-expect-error a client for another message map
    createElement(chat.WirefallProvider, { client: connect<Other>('http://h/wf') });
    // @ts-expect-error client and url together
    createElement(chat.WirefallProvider, { client, url: 'http://h/wf' });
    // @ts-expect-error neither
    createElement(chat.WirefallProvider, {});
    // @ts-expect-error unknown option
    createElement(chat.WirefallProvider, { url: 'http://h/wf', options: { transport: ['ws'] } });
    expectTypeOf<WirefallProviderProps<Chat>>().toHaveProperty('children');
  });
});

describe('the plain exports', () => {
  test('default to any name with any data that can make the trip (Wire); type arguments narrow them', () => {
    useSubscription('anything', (d) => expectTypeOf(d).toEqualTypeOf<Wire>());
    useSubscription<Chat, 'said'>('said', (m) => expectTypeOf(m.text).toEqualTypeOf<string>());
    // @ts-expect-error with the map given, names are checked
    useSubscription<Chat, 'say'>('say', () => {});
    void useSend()('anything', { any: 'thing' });
    const send = useSend<Chat>();
    // @ts-expect-error with the map given, shapes are checked
    void send('say', { text: 1 });
    expectTypeOf(useClient<Chat>()).toEqualTypeOf<Client<Chat> | null>();
    expectTypeOf(useConnection()).toEqualTypeOf<ConnectionSnapshot>();
  });

  test('the generic provider infers the map from its client', () => {
    createElement(WirefallProvider<Chat>, { client: connect<Chat>('http://h/wf') });
    createElement(WirefallProvider, { url: 'http://h/wf' });
  });
});
