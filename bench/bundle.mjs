// Client bundle sizes: a realistic entry per library, bundled for the browser with esbuild,
// minified, then gzip -9. Every library goes through the same bundler and settings: a production
// build (`NODE_ENV` and the `production` export condition, which picks wirefall's dist/prod/).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const root = fileURLToPath(new URL('..', import.meta.url));
const build = `${root}bench/.build/bundle`;
const require = createRequire(`${root}package.json`);

/** What an app would write: open a connection and listen to one message type. */
const entries = [
  {
    name: 'wirefall (core, ESM)',
    pkg: null,
    code: `import { connect } from ${JSON.stringify(`${root}dist/prod/index.mjs`)};\nconnect('/x').subscribe('a', console.log);`,
  },
  {
    name: 'wirefall/react (ESM)',
    pkg: null,
    needs: `${root}dist/prod/react.mjs`,
    // React itself is the app's; it is not counted.
    external: ['react', 'react/jsx-runtime', 'react-dom'],
    code: [
      `import { createElement } from 'react';`,
      `import { WirefallProvider, useConnection, useSubscription, useSend } from ${JSON.stringify(`${root}dist/prod/react.mjs`)};`,
      `function Room() { const { state } = useConnection(); const send = useSend(); useSubscription('a', console.log);`,
      `  return createElement('button', { disabled: state !== 'open', onClick: () => send('say', { text: 'hi' }) }, 'hi'); }`,
      `export const App = () => createElement(WirefallProvider, { url: '/x' }, createElement(Room));`,
    ].join('\n'),
  },
  {
    name: 'socket.io-client',
    pkg: 'socket.io-client',
    code: `import { io } from 'socket.io-client';\nio('/x').on('a', console.log);`,
  },
  {
    name: '@microsoft/signalr',
    pkg: '@microsoft/signalr',
    code: `import { HubConnectionBuilder } from '@microsoft/signalr';\nconst c = new HubConnectionBuilder().withUrl('/x').withAutomaticReconnect().build();\nc.on('a', console.log);\nc.start();`,
  },
  {
    name: 'sockjs-client',
    pkg: 'sockjs-client',
    code: `import SockJS from 'sockjs-client';\nconst s = new SockJS('/x');\ns.onmessage = (e) => console.log(e.data);`,
  },
  {
    name: 'centrifuge',
    pkg: 'centrifuge',
    code: `import { Centrifuge } from 'centrifuge';\nconst c = new Centrifuge([{ transport: 'websocket', endpoint: 'ws://x/ws' }, { transport: 'sse', endpoint: 'http://x/sse' }, { transport: 'http_stream', endpoint: 'http://x/stream' }]);\nc.newSubscription('a').on('publication', (p) => console.log(p.data)).subscribe();\nc.connect();`,
  },
];

function version(pkg) {
  try {
    return JSON.parse(readFileSync(require.resolve(`${pkg}/package.json`), 'utf8')).version;
  } catch {
    // Packages whose exports hide package.json: walk up from the resolved entry.
    try {
      let dir = require.resolve(pkg);
      for (;;) {
        dir = dir.slice(0, dir.lastIndexOf('/'));
        const f = `${dir}/package.json`;
        if (existsSync(f)) {
          const j = JSON.parse(readFileSync(f, 'utf8'));
          if (j.name === pkg) return j.version;
        }
        if (!dir.includes('/node_modules/')) return undefined;
      }
    } catch {
      return undefined;
    }
  }
}

export async function bundleSizes() {
  const esbuild = await import('esbuild');
  mkdirSync(build, { recursive: true });
  const rows = [{ name: 'raw WebSocket (browser built-in)', min: 0, gzip: 0, note: 'the floor: no library' }];
  for (const e of entries) {
    if (e.needs && !existsSync(e.needs)) {
      rows.push({ name: e.name, min: NaN, gzip: NaN, note: `${e.needs.slice(root.length)} not built` });
      continue;
    }
    if (e.pkg) {
      try {
        require.resolve(e.pkg);
      } catch {
        rows.push({ name: e.name, min: NaN, gzip: NaN, note: 'not installed' });
        continue;
      }
    }
    const file = `${build}/${e.name.replace(/[^a-z0-9]+/gi, '_')}.mjs`;
    writeFileSync(file, e.code);
    try {
      const bundle = async (target) => {
        const r = await esbuild.build({
          entryPoints: [file],
          bundle: true,
          minify: true,
          format: 'esm',
          platform: 'browser',
          target,
          write: false,
          logLevel: 'silent',
          external: e.external ?? [],
          define: { 'process.env.NODE_ENV': '"production"', global: 'globalThis' },
          conditions: ['production'],
          nodePaths: [`${root}node_modules`],
        });
        return Buffer.from(r.outputFiles[0].contents);
      };
      // es2022: what today's bundler defaults keep (class fields and #private as written).
      // es2020: older targets (Vite ≤ 6's default, Safari 14) lower #private members to helpers.
      const out = await bundle('es2022');
      const old = await bundle('es2020');
      rows.push({
        name: e.name,
        version: e.pkg ? version(e.pkg) : undefined,
        min: out.length,
        gzip: gzipSync(out, { level: 9 }).length,
        gzip2020: gzipSync(old, { level: 9 }).length,
      });
    } catch (err) {
      rows.push({ name: e.name, min: NaN, gzip: NaN, note: `bundling failed: ${String(err.message ?? err).split('\n')[0]}` });
    }
  }
  const umd = `${root}dist/wirefall.umd.min.js`;
  if (existsSync(umd)) {
    const b = readFileSync(umd);
    rows.push({ name: 'wirefall UMD (dist/wirefall.umd.min.js, as shipped)', min: b.length, gzip: gzipSync(b, { level: 9 }).length });
  }
  return rows;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const r of await bundleSizes()) console.log(r);
}
