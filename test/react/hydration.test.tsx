// @vitest-environment jsdom
// Markup rendered on the server hydrates without a mismatch, then connects once.
import { act, waitFor } from '@testing-library/react';
import { StrictMode } from 'react';
import { hydrateRoot, type Root } from 'react-dom/client';
import { renderToString } from 'react-dom/server';
import { afterEach, expect, test } from 'vitest';
import WebSocket from 'ws';
import type { ClientOptions } from '../../src/index';
import { createWirefallReact } from '../../src/react/index';
import { cleanup, startServer, track, type Chat } from '../support/harness';
import { failOnConsoleError } from './support';

const { WirefallProvider, useClient, useConnection, useDiagnostics } = createWirefallReact<Chat>();
const options: ClientOptions = { WebSocket: WebSocket as never, transports: ['ws'], rememberRungMs: 0 };

let root: Root | undefined;
afterEach(async () => {
  act(() => root?.unmount());
  root = undefined;
  document.body.innerHTML = '';
  await cleanup();
});
failOnConsoleError();

function Page() {
  const { state, rung } = useConnection();
  const d = useDiagnostics();
  const client = useClient();
  return <p>{`${state}/${rung}/${d.state}/${d.attempts.length}/${client ? 'client' : 'none'}`}</p>;
}

test('hydrating the server markup: no mismatch, the placeholder first, then one connection', async () => {
  const { server, url } = await startServer();
  track(server);
  let sessions = 0;
  server.on('connection', () => sessions++);
  const tree = (
    <StrictMode>
      <WirefallProvider url={url} options={options}>
        <Page />
      </WirefallProvider>
    </StrictMode>
  );
  const container = document.createElement('div');
  container.innerHTML = renderToString(tree);
  document.body.append(container);
  expect(container.textContent).toBe('connecting/null/connecting/0/none');
  const recoverable: unknown[] = []; // where React 19 reports a hydration mismatch
  await act(async () => {
    root = hydrateRoot(container, tree, { onRecoverableError: (e) => void recoverable.push(e) });
  });
  await waitFor(() => expect(container.textContent).toBe('open/ws/open/1/client'));
  expect(recoverable).toEqual([]);
  await new Promise((r) => setTimeout(r, 100)); // room for a stray second session
  expect(sessions).toBe(1);
});
