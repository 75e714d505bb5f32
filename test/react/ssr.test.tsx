// @vitest-environment node
// Server-side rendering must not connect: no client, no socket, no request.
import { renderToString } from 'react-dom/server';
import { afterEach, expect, test } from 'vitest';
import WebSocket from 'ws';
import type { ClientOptions } from '../../src/index';
import { createWirefallReact } from '../../src/react/index';
import { cleanup, startServer, track, type Chat } from '../support/harness';

const { WirefallProvider, useClient, useConnection, useSubscription, useSend } = createWirefallReact<Chat>();

afterEach(cleanup);

test('renderToString makes no connection and renders the placeholder state', async () => {
  const { server, url } = await startServer();
  track(server);
  const touched: string[] = [];
  server.httpServer.on('upgrade', () => touched.push('upgrade'));
  server.httpServer.on('request', () => touched.push('request'));
  class CountingWebSocket extends WebSocket {
    constructor(u: string) {
      touched.push('WebSocket');
      super(u);
    }
  }
  const options: ClientOptions = {
    WebSocket: CountingWebSocket as never,
    fetch: (...args) => (touched.push('fetch'), fetch(...args)),
  };
  const handled: unknown[] = [];
  function Page() {
    const { state, rung } = useConnection();
    const client = useClient();
    const send = useSend();
    useSubscription('said', (m) => handled.push(m));
    return (
<p>{`${state}/${rung}/${client === null ? 'no client' : 'client'}/${typeof send}`}</p>
    );
  }
  const html = renderToString(
    <WirefallProvider url={url} options={options}>
      <Page />
    </WirefallProvider>,
  );
  expect(html).toBe('<p>connecting/null/no client/function</p>');
  await new Promise((r) => setTimeout(r, 50)); // a deferred connection would start by now
  expect(touched).toEqual([]);
  expect([...server.connections]).toHaveLength(0);
});
