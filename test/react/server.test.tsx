// @vitest-environment jsdom
// The hooks against the real reference server, over the `ws` package's WebSocket.
import { cleanup as unmountAll, render, screen, waitFor, fireEvent } from '@testing-library/react';
import { StrictMode, useLayoutEffect, useState } from 'react';
import { afterEach, expect, test } from 'vitest';
import WebSocket from 'ws';
import { connect, type ClientOptions, type WirefallError } from '../../src/index';
import { createWirefallReact } from '../../src/react/index';
import { cleanup, startServer, track, type Chat } from '../support/harness';
import { failOnConsoleError } from './support';

const { WirefallProvider, useConnection, useSubscription, useSend } = createWirefallReact<Chat>();
const options: ClientOptions = { WebSocket: WebSocket as never, transports: ['ws'], rememberRungMs: 0 };

afterEach(async () => {
  unmountAll();
  await cleanup();
});
failOnConsoleError();

/** A reference server that broadcasts every `say`, counting upgrades, sessions and their ends. */
async function chatServer() {
  const { server, url } = await startServer();
  track(server);
  const seen = { upgrades: 0, sessions: 0, ended: [] as string[], said: [] as string[] };
  server.httpServer.on('upgrade', () => seen.upgrades++);
  server.on('connection', (conn) => {
    seen.sessions++;
    conn.on('close', (why) => seen.ended.push(why));
    conn.subscribe('say', ({ text }) => {
      seen.said.push(text);
      server.broadcast('said', { from: conn.id, text });
    });
  });
  return { server, url, seen };
}

function Room() {
  const { state, rung } = useConnection();
  const send = useSend();
  const [lines, setLines] = useState<string[]>([]);
  const [text, setText] = useState('');
  useSubscription('said', (m) => setLines((l) => [...l, m.text]));
  return (
    <div>
      <p data-testid="status">{`${state}/${rung}`}</p>
      <ul>
        {lines.map((l, i) => (
          <li key={i}>{l}</li>
        ))}
      </ul>
      <input aria-label="text" value={text} onChange={(e) => setText(e.target.value)} />
      <button onClick={() => void send('say', { text })}>send</button>
    </div>
  );
}

test('StrictMode: one socket, one connection on the server, and unmounting ends its session', async () => {
  const { url, seen } = await chatServer();
  let sockets = 0;
  class CountingWebSocket extends WebSocket {
    constructor(u: string) {
      super(u);
      sockets++;
    }
  }
  const { unmount } = render(
    <StrictMode>
      <WirefallProvider url={url} options={{ ...options, WebSocket: CountingWebSocket as never }}>
        <Room />
      </WirefallProvider>
    </StrictMode>,
  );
  await waitFor(() => expect(screen.getByTestId('status').textContent).toBe('open/ws'));
  await new Promise((r) => setTimeout(r, 100)); // room for a stray second connection to show up
  expect(sockets).toBe(1); // not even a socket opened and dropped for the simulated unmount
  expect(seen).toMatchObject({ upgrades: 1, sessions: 1, ended: [] });
  unmount();
  await waitFor(() => expect(seen.ended).toEqual(['client closed']));
});

test('useSend delivers to the server, and useSubscription receives its broadcast', async () => {
  const { url, seen } = await chatServer();
  render(
    <WirefallProvider url={url} options={options}>
      <Room />
    </WirefallProvider>,
  );
  fireEvent.change(screen.getByLabelText('text'), { target: { value: 'hello from react' } });
  fireEvent.click(screen.getByText('send')); // before the connection is open: queued, then sent
  await screen.findByText('hello from react');
  expect(seen.said).toEqual(['hello from react']);
  expect(screen.getByTestId('status').textContent).toBe('open/ws');
});

/** A reference server that records each `say` under its name. */
async function namedServer(name: string, log: string[]) {
  const { server, url } = await startServer();
  track(server);
  server.on('connection', (conn) => conn.subscribe('say', ({ text }) => log.push(`${name}:${text}`)));
  return url;
}

/** A room that joins in a layout effect (measuring, then announcing, is a common reason to). */
function LayoutJoin({ room, settled }: { room: string; settled: string[] }) {
  const send = useSend();
  useLayoutEffect(() => {
    send('say', { text: `join ${room}` }).then(
      () => settled.push(`ok ${room}`),
      (e: WirefallError) => settled.push(`${e.code} ${room}`),
    );
  }, [send, room]);
  return null;
}

// Before the fix: with a new url the join of b settled 'WF_CLOSED b' (it went to A's client, which
// the provider closed in that commit); with a new client, A's log read 'A:join b' (the app's
// previous client carried it).
for (const given of ['url', 'client'] as const) {
  test(`a new ${given}: the new children's layout-effect sends go to the new one, not the outgoing one`, async () => {
    const log: string[] = [];
    const urls = { a: await namedServer('A', log), b: await namedServer('B', log) };
    const clients = given === 'client' ? { a: track(connect<Chat>(urls.a, options)), b: track(connect<Chat>(urls.b, options)) } : undefined;
    const settled: string[] = [];
    const ui = (room: 'a' | 'b') => (
      <WirefallProvider {...(clients ? { client: clients[room] } : { url: urls[room], options })}>
        <LayoutJoin key={room} room={room} settled={settled} />
      </WirefallProvider>
    );
    const { rerender } = render(ui('a'));
    await waitFor(() => expect(settled).toEqual(['ok a']));
    rerender(ui('b'));
    await waitFor(() => expect(settled).toEqual(['ok a', 'ok b']), { timeout: 5000 });
    expect(log).toEqual(['A:join a', 'B:join b']);
  });
}

test('unmounting while sends await their acknowledgement settles each of them with WF_CLOSED, and opens nothing more', async () => {
  const { url, seen } = await chatServer();
  let send: ((text: string) => Promise<void>) | undefined;
  function Grab() {
    const sendFn = useSend();
    send = (text) => sendFn('say', { text });
    return <Room />;
  }
  const { unmount } = render(
    <StrictMode>
      <WirefallProvider url={url} options={options}>
        <Grab />
      </WirefallProvider>
    </StrictMode>,
  );
  await waitFor(() => expect(screen.getByTestId('status').textContent).toBe('open/ws'));
  const settled = ['a', 'b', 'c'].map((t) => send!(t).then(() => 'ok', (e: WirefallError) => e.code));
  unmount();
  expect(await Promise.all(settled)).toEqual(['WF_CLOSED', 'WF_CLOSED', 'WF_CLOSED']);
  await waitFor(() => expect(seen.ended).toEqual(['client closed']));
  await new Promise((r) => setTimeout(r, 200)); // room for a reconnect that must not happen
  expect(seen).toMatchObject({ upgrades: 1, sessions: 1 });
});
