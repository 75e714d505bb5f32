import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';

// The example's server (server.mjs) listens here; point this at your own endpoint.
const url = 'http://127.0.0.1:8125/wirefall';

// StrictMode mounts, unmounts and remounts the provider in development: it still opens exactly
// one connection.
createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App url={url} />
  </StrictMode>,
);
