// How the size scripts bundle the client: as an app's bundler does for the browser (esbuild
// --bundle --minify --format=esm --platform=browser --target=es2022, bench/bundle.mjs's settings),
// in memory, with the metafile that says which inputs went in. `scripts/size.mjs` builds the
// published dist/prod/, `scripts/size-profile.mjs` the sources; both from the same entry.
import { build } from 'esbuild';

/** The app the bundle is measured for: `connect` with every rung, and one subscription. */
export const appEntry = (specifier) => `import { connect } from '${specifier}';\nconnect('/x').subscribe('a', console.log);`;

/** Bundles `stdin` with the browser app's settings, plus `extra` (conditions, plugins, tsconfig). */
export const bundleApp = (stdin, extra = {}) =>
  build({ stdin, ...extra, metafile: true, bundle: true, minify: true, format: 'esm', platform: 'browser', target: 'es2022', write: false });
