import { fileURLToPath } from 'node:url';
import path from 'node:path';
import terser from '@rollup/plugin-terser';
import typescript from '@rollup/plugin-typescript';
import { dts } from 'rollup-plugin-dts';
import { internalNames } from './scripts/internal-names.mjs';

// React Server Components bundlers (Next.js app router) need the hooks entry marked client-only.
const useClient = (chunk) => (chunk.isEntry && chunk.name === 'react' ? "'use client';" : '');

// `redis` (node-redis) and `prom-client` are optional peers, loaded only by `wirefall/server/redis`
// and `wirefall/server/metrics`.
const external = (id) => id === 'ws' || id === 'react' || id === 'redis' || id === 'prom-client' || id.startsWith('node:') || id === 'react/jsx-runtime';

// Every build carries a sourcemap (with the sources inlined: src/ is not in the package).
const ts = (options = {}) => typescript({ tsconfig: './tsconfig.build.json', declaration: false, declarationDir: undefined, sourceMap: true, ...options });

// The production build: src/dev.ts says `DEV = false`, so explanatory text is left out (see there).
const srcDev = path.dirname(fileURLToPath(import.meta.url)) + '/src/dev.ts';
// A transform after TypeScript's: its plugin compiles from disk, so a `load` hook would be ignored.
const production = () => ({ name: 'wirefall-production', transform: (code, id) => (id === srcDev ? { code: 'export const DEV = false;', map: null } : null) });

const entries = { index: 'src/index.ts', server: 'src/server/index.ts', 'server-redis': 'src/server/redis.ts', 'server-metrics': 'src/server/metrics.ts', react: 'src/react/index.ts', share: 'src/share/index.ts' };

export default [
  // ESM + CJS for bundlers and Node. The entries share chunks, so `Client` and `WirefallError`
  // are one class at run time whichever entry imported them.
  // dist/ is the default build; dist/prod/ the production one, every entry of it, so that under the
  // `production` condition all entries still share one `Client` and one `WirefallError`.
  ...['dist', 'dist/prod'].map((dir) => ({
    input: entries,
    external,
    // No sourcemaps for dist/prod/: TypeScript maps them against its own outDir, so their sources
    // would not resolve; a production bundle is mapped by the app's bundler from these files.
    // dist/prod/ is minified too (terser, as the UMD bundle): an app's bundler minifies it again, but
    // terser's compressor folds what esbuild's leaves (single-use helpers, constant branches after
    // DEV), which an app's production bundle then does not carry (scripts/size.mjs: -94 B gzip).
    // reduce_funcs off: terser then no longer inlines single-use functions into their one caller as
    // `(function(…){…})(…)` expressions, which the app's minifier cannot undo and gzip compresses
    // worse (-260 B gzip of the client; 29,538 against 29,610 B minified, so it is not the bytes).
    output: ['es', 'cjs'].map((format) => ({
      dir,
      format,
      entryFileNames: `[name].${format === 'es' ? 'mjs' : 'cjs'}`,
      chunkFileNames: `chunks/[name]-[hash].${format === 'es' ? 'mjs' : 'cjs'}`,
      ...(format === 'cjs' && { exports: 'named' }),
      banner: useClient,
      sourcemap: dir === 'dist',
      // The package's internal property names (scripts/internal-names.mjs) to one letter each: -150 B gzip.
      plugins: dir === 'dist' ? [] : [terser({ compress: { passes: 2, directives: false, reduce_funcs: false }, ...internalNames() })], // keeps 'use client'
    })),
    plugins: dir === 'dist' ? [ts()] : [ts({ outDir: 'dist/prod' }), production()],
  })),
  // Declarations: one bundled file per entry and module format, beside the build it describes
  // (`.d.mts` for the `.mjs`, `.d.cts` for the `.cjs`, and `.d.ts` for resolvers that predate
  // `exports`: TypeScript's node10 mode, through `types` and `typesVersions`). `@internal`
  // declarations are stripped (tsconfig's `stripInternal`).
  ...['index', 'server', 'server-redis', 'server-metrics', 'react', 'share'].map((name) => ({
    input: entries[name],
    external: (id) => external(id) || id === 'wirefall',
    // stripInternal works file by file: an `@internal` type that a non-public module still imports
    // (the server's ResolvedServerOptions, imported by its Hub) is gone from that file. Such
    // modules are not reachable from the public declarations, so a shim that tree-shaking drops is
    // right; scripts/check-types.mjs compiles the result strictly, so a shim that survived fails.
    shimMissingExports: true,
    onwarn: quietShims,
    output: ['d.mts', 'd.cts', 'd.ts'].map((ext) => ({ file: `dist/${name}.${ext}`, format: 'es' })),
    plugins: [...(name === 'index' ? [] : [importClientEntry()]), dts({ tsconfig: './tsconfig.build.json', compilerOptions: { stripInternal: true } })],
  })),
  // UMD for a <script> tag: bundled from the client entry alone (rollup cannot code-split UMD).
  // The readable bundle explains its errors; the minified one is the production build.
  {
    input: 'src/umd.ts',
    output: { file: 'dist/wirefall.umd.js', format: 'umd', name: 'Wirefall', sourcemap: true },
    plugins: [ts({ outDir: undefined })],
  },
  {
    input: 'src/umd.ts',
    output: { file: 'dist/wirefall.umd.min.js', format: 'umd', name: 'Wirefall', sourcemap: true, plugins: [terser({ compress: { passes: 2 }, ...internalNames() })] },
    plugins: [ts({ outDir: undefined }), production()],
  },
  // The UMD global's typings: `Wirefall` is what src/umd.ts exports. A script-tag project lists
  // this file in its tsconfig (`"files": ["node_modules/wirefall/dist/wirefall.umd.d.ts"]`).
  {
    input: 'src/umd.ts',
    output: {
      file: 'dist/wirefall.umd.d.ts',
      format: 'es',
      footer: [
        'declare global {',
        "  /** wirefall's UMD bundle (`dist/wirefall.umd.min.js`) loaded by a `<script>` tag. */",
        "  const Wirefall: typeof import('./wirefall.umd.js');",
        '}',
      ].join('\n'),
    },
    shimMissingExports: true,
    onwarn: quietShims,
    plugins: [dts({ tsconfig: './tsconfig.build.json', compilerOptions: { stripInternal: true } })],
  },
  // The hostile-network lab (lab/): the one build the demo (examples/chat), scripts/screenshots.mjs
  // and bench/ load. Product tooling, not package API: package.json `files` leaves it out.
  {
    input: 'lab/index.ts',
    external: (id) => id.startsWith('node:'),
    output: { file: 'dist/lab.mjs', format: 'es', sourcemap: true },
    plugins: [typescript({ tsconfig: false, include: ['lab/*.ts'], compilerOptions: { target: 'ES2022', module: 'ESNext', moduleResolution: 'Bundler', strict: true, sourceMap: true, types: ['node'], lib: ['ES2022', 'DOM'] } })],
  },
];

/** The shims above are expected (see there); any other warning is still shown. */
function quietShims(warning, warn) {
  if (warning.code !== 'SHIMMED_EXPORT') warn(warning);
}

/**
 * In the declarations of `wirefall/server` and `wirefall/react`, what the client entry already
 * exports is imported from `wirefall` rather than copied: `Client` and `WirefallError` are classes
 * with `#private` fields, so two declared copies would be two incompatible types (a client from
 * `connect()` would not fit the React provider's `client` prop).
 */
function importClientEntry() {
  const src = path.dirname(fileURLToPath(import.meta.url)) + '/src/';
  const fromClientEntry = new Set(['index', 'core/client', 'core/options', 'core/session-tap', 'protocol/errors', 'protocol/close-codes'].map((m) => src + m));
  return {
    name: 'import-client-entry',
    resolveId(source, importer) {
      if (!importer || !source.startsWith('.')) return null;
      const target = path.resolve(path.dirname(importer), source).replace(/\.(d\.)?ts$/, '');
      return fromClientEntry.has(target) ? { id: 'wirefall', external: true } : null;
    },
  };
}
