// @vitest-environment jsdom
import { act, cleanup, render, screen, waitFor } from '@testing-library/react';
import { Component, StrictMode, useEffect, useState, type ReactNode } from 'react';
import { WebSocket as MockWebSocket } from 'mock-socket';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { connect, type Client, type ShareFactory, type WirefallError } from '../../src/index';
import { share } from '../../src/share/index';
import { createWirefallReact, useConnection as plainUseConnection, useSend as plainUseSend } from '../../src/react/index';
import { failOnConsoleError, mockOptions, mockServer, type Chat } from './support';

const { WirefallProvider, useClient, useConnection, useSubscription, useSend } = createWirefallReact<Chat>();

const servers: ReturnType<typeof mockServer>[] = [];
const clients: Client<Chat>[] = [];
function server() {
  const s = mockServer();
  servers.push(s);
  return s;
}
function ownClient(url: string) {
  const c = connect<Chat>(url, mockOptions);
  clients.push(c);
  return c;
}

afterEach(async () => {
  cleanup();
  for (const c of clients.splice(0)) c.close();
  for (const s of servers.splice(0)) await s.stop();
});
failOnConsoleError();

function Status() {
  const { state, rung } = useConnection();
  return <p data-testid="status">{`${state}/${rung}`}</p>;
}
const status = () => screen.getByTestId('status').textContent;

describe('useConnection', () => {
  test('follows state and rung, re-rendering only when they change', async () => {
    const s = server();
    const seen: string[] = [];
    function Counted() {
      const c = useConnection();
      seen.push(`${c.state}/${c.rung}`);
      return null;
    }
    const got: string[] = [];
    function Feed() {
      useSubscription('said', (m) => got.push(m.text));
      return null;
    }
    render(
      <WirefallProvider url={s.url} options={mockOptions}>
        <Counted />
        <Feed />
      </WirefallProvider>,
    );
    await waitFor(() => expect(seen.at(-1)).toBe('open/ws'));
    // The placeholder and the new client's `connecting` are the same snapshot: no render between.
    expect(seen).toEqual(['connecting/null', 'open/ws']);

    // Traffic that changes neither state nor rung renders nothing.
    for (let i = 0; i < 5; i++) s.push('said', { from: 'srv', text: String(i) });
    await waitFor(() => expect(got).toHaveLength(5));
    expect(seen).toHaveLength(2);

    s.cut();
    await waitFor(() => expect(seen).toEqual(['connecting/null', 'open/ws', 'reconnecting/null', 'open/ws']));
  });

  test('the snapshot object is stable while nothing changes', async () => {
    const s = server();
    const snaps: object[] = [];
    function Parent() {
      const [, setN] = useState(0);
      const snap = plainUseConnection();
      snaps.push(snap);
      return <button onClick={() => setN((n) => n + 1)}>{snap.state}</button>;
    }
    render(
      <WirefallProvider url={s.url} options={mockOptions}>
        <Parent />
      </WirefallProvider>,
    );
    await screen.findByText('open');
    const before = snaps.length;
    act(() => screen.getByRole('button').click());
    act(() => screen.getByRole('button').click());
    expect(snaps.length).toBe(before + 2);
    expect(new Set(snaps.slice(before - 1)).size).toBe(1);
  });
});

describe('useSubscription', () => {
  test('delivers typed pushes to the latest closure, subscribing once per client and type', async () => {
    const s = server();
    const c = ownClient(s.url);
    let active = 0;
    const subscribe = c.subscribe.bind(c);
    const spy = vi.spyOn(c, 'subscribe').mockImplementation((type, handler) => {
      active++;
      const off = subscribe(type, handler);
      return () => (active--, off());
    });
    const got: string[] = [];
    function Feed({ label, type }: { label: string; type: 'said' | 'echoed' }) {
      useSubscription(type, (m) => got.push(`${label}:${'text' in m ? m.text : m.n}`));
      return null;
    }
    const ui = (label: string, type: 'said' | 'echoed' = 'said') => (
      <WirefallProvider client={c}>
        <Feed label={label} type={type} />
      </WirefallProvider>
    );
    const { rerender, unmount } = render(ui('first'));
    await waitFor(() => expect(c.state).toBe('open'));
    s.push('said', { from: 'srv', text: 'one' });
    await waitFor(() => expect(got).toEqual(['first:one']));

    rerender(ui('second'));
    rerender(ui('third'));
    s.push('said', { from: 'srv', text: 'two' });
    await waitFor(() => expect(got).toEqual(['first:one', 'third:two']));
    expect(spy).toHaveBeenCalledTimes(1);

    rerender(ui('fourth', 'echoed')); // a new type is a new subscription, and the old one ends
    s.push('said', { from: 'srv', text: 'ignored' });
    s.push('echoed', { n: 3 });
    await waitFor(() => expect(got).toEqual(['first:one', 'third:two', 'fourth:3']));
    expect(spy).toHaveBeenCalledTimes(2);
    expect(active).toBe(1);

    unmount();
    expect(active).toBe(0);
    expect(c.state).toBe('open'); // a shared client is not the provider's to close
  });

  test('under StrictMode the double mount leaves exactly one live subscription', async () => {
    const s = server();
    const got: string[] = [];
    let client: Client<Chat> | null = null;
    function Feed() {
      client = useClient();
      useSubscription('said', (m) => got.push(m.text));
      return null;
    }
    render(
      <StrictMode>
        <WirefallProvider url={s.url} options={mockOptions}>
          <Feed />
          <Status />
        </WirefallProvider>
      </StrictMode>,
    );
    await waitFor(() => expect(status()).toBe('open/ws'));
    s.push('said', { from: 'srv', text: 'once' });
    await waitFor(() => expect(got).toEqual(['once']));
    await new Promise((r) => setTimeout(r, 20));
    expect(got).toEqual(['once']);
    expect(s.connections()).toBe(1);
    expect(client).not.toBeNull();
  });
});

describe('useSend', () => {
  test('sends made before the client exists are queued and go out first, in order', async () => {
    const s = server();
    const results: string[] = [];
    const sends = new Set<unknown>();
    function Chatty() {
      const send = useSend();
      sends.add(send);
      // A child's mount effect runs before the provider's, so there is no client yet.
      useEffect(() => {
        void send('say', { text: 'one' }).then(() => results.push('one'));
        void send('say', { text: 'two' }).then(() => results.push('two'));
      }, [send]);
      const client = useClient();
      useEffect(() => {
        if (client) void send('echo', { n: 3 }).then(() => results.push('three'));
      }, [client, send]);
      return <Status />;
    }
    render(
      <WirefallProvider url={s.url} options={mockOptions}>
        <Chatty />
      </WirefallProvider>,
    );
    await waitFor(() => expect(results).toHaveLength(3));
    // On the wire in call order (settling order within one acknowledgement may differ).
    expect(s.received).toEqual([
      { type: 'say', data: { text: 'one' } },
      { type: 'say', data: { text: 'two' } },
      { type: 'echo', data: { n: 3 } },
    ]);
    expect(sends.size).toBe(1); // stable across renders
  });

  test('queued sends reject with WF_CLOSED when the provider unmounts before it has a client', async () => {
    const s = server();
    let pending: Promise<void> | undefined;
    function Early() {
      const send = plainUseSend<Chat>();
      useEffect(() => {
        pending ??= send('say', { text: 'never' });
      }, [send]);
      return null;
    }
    const { unmount } = render(
      <WirefallProvider url={s.url} options={mockOptions}>
        <Early />
      </WirefallProvider>,
    );
    unmount(); // before the provider's microtask could create the client
    await expect(pending).rejects.toMatchObject({ name: 'WirefallError', code: 'WF_CLOSED' });
    await new Promise((r) => setTimeout(r, 20));
    expect(s.connections()).toBe(0);
  });

  test('a send after the provider unmounted rejects with WF_CLOSED from the closed client', async () => {
    const s = server();
    let send: ((text: string) => Promise<void>) | undefined;
    function Grab() {
      const sendFn = useSend();
      send = (text) => sendFn('say', { text });
      return <Status />;
    }
    const { unmount } = render(
      <WirefallProvider url={s.url} options={mockOptions}>
        <Grab />
      </WirefallProvider>,
    );
    await waitFor(() => expect(status()).toBe('open/ws'));
    await send!('before');
    unmount();
    await waitFor(() => expect(s.open()).toBe(0));
    await expect(send!('after')).rejects.toMatchObject({ code: 'WF_CLOSED' });
    expect(s.received.map((m) => m.data)).toEqual([{ text: 'before' }]);
  });
});

describe('WirefallProvider', () => {
  test('StrictMode creates exactly one client and the unmount closes it', async () => {
    const s = server();
    let sockets = 0;
    class CountingWebSocket extends MockWebSocket {
      constructor(url: string) {
        super(url);
        sockets++;
      }
    }
    const seen = new Set<unknown>();
    function Watch() {
      const c = useClient();
      if (c) seen.add(c);
      return <Status />;
    }
    const { unmount } = render(
      <StrictMode>
        <WirefallProvider url={s.url} options={{ ...mockOptions, WebSocket: CountingWebSocket as never }}>
          <Watch />
        </WirefallProvider>
      </StrictMode>,
    );
    await waitFor(() => expect(status()).toBe('open/ws'));
    expect(sockets).toBe(1);
    expect(seen.size).toBe(1);
    expect(s.connections()).toBe(1);
    const [client] = seen as Set<Client<Chat>>;
    unmount();
    expect(client!.state).toBe('closed');
    await waitFor(() => expect(s.open()).toBe(0));
  });

  test('passes `share` through to connect: under StrictMode the factory runs once, after mounting, and its client is the one the hooks see', async () => {
    const s = server();
    const asked: string[] = [];
    const made: Client<Chat>[] = [];
    // A share factory as wirefall/share's is: connect hands it the context, it returns the client.
    const factory: ShareFactory = (ctx) => {
      asked.push(ctx.url);
      const c = ctx.make() as Client<Chat>;
      made.push(c);
      return c as never;
    };
    const seen = new Set<unknown>();
    function Watch() {
      const c = useClient();
      if (c) seen.add(c);
      return <Status />;
    }
    expect(asked).toEqual([]);
    const { unmount } = render(
      <StrictMode>
        <WirefallProvider url={s.url} options={{ ...mockOptions, share: factory }}>
          <Watch />
        </WirefallProvider>
      </StrictMode>,
    );
    await waitFor(() => expect(status()).toBe('open/ws'));
    expect(asked).toEqual([s.url]);
    expect([...seen]).toEqual(made);
    unmount();
    expect(made[0]!.state).toBe('closed');
  });

  test('with wirefall/share where Web Locks are missing (jsdom), the provider\'s client is solo and works', async () => {
    const s = server();
    let role: string | undefined;
    function Role() {
      role = useClient()?.role;
      return <Status />;
    }
    render(
      <WirefallProvider url={s.url} options={{ ...mockOptions, share: share() }}>
        <Role />
      </WirefallProvider>,
    );
    await waitFor(() => expect(status()).toBe('open/ws'));
    expect(role).toBe('solo');
  });

  test('a new url closes the old client and creates a new one; new options alone do not', async () => {
    const a = server();
    const b = server();
    const seen: Client<Chat>[] = [];
    function Watch() {
      const c = useClient();
      if (c && !seen.includes(c)) seen.push(c);
      return <Status />;
    }
    const ui = (url: string) => (
      <WirefallProvider url={url} options={{ ...mockOptions }}>
        <Watch />
      </WirefallProvider>
    );
    const { rerender } = render(ui(a.url));
    await waitFor(() => expect(status()).toBe('open/ws'));
    rerender(ui(a.url)); // a new options object every render
    rerender(ui(a.url));
    expect(seen).toHaveLength(1);
    rerender(ui(b.url));
    await waitFor(() => expect(b.connections()).toBe(1));
    await waitFor(() => expect(status()).toBe('open/ws'));
    expect(seen).toHaveLength(2);
    expect(seen[0]!.state).toBe('closed');
    expect(a.open()).toBe(0);
  });

  test('hooks outside a provider throw a WirefallError that names the hook', () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    expect(() => render(<Status />)).toThrow(/useConnection\(\) must be used inside a <WirefallProvider>/);
    errors.mockClear();
  });

  test('an invalid URL reaches the nearest error boundary', async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    class Boundary extends Component<{ children: ReactNode }, { error?: WirefallError }> {
      override state: { error?: WirefallError } = {};
      static getDerivedStateFromError(error: WirefallError) {
        return { error };
      }
      override render() {
        return this.state.error ? <p>{this.state.error.code}</p> : this.props.children;
      }
    }
    render(
      <Boundary>
        <WirefallProvider url="ftp://nope" options={mockOptions}>
          <Status />
        </WirefallProvider>
      </Boundary>,
    );
    await screen.findByText('WF_INVALID');
    errors.mockClear();
  });
});
