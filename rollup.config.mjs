import terser from '@rollup/plugin-terser';
import typescript from '@rollup/plugin-typescript';

// React Server Components bundlers (Next.js app router) need the hooks entry marked client-only.
const useClient = (chunk) => (chunk.isEntry && chunk.name === 'react' ? "'use client';" : '');

const external = (id) => id === 'ws' || id === 'react' || id.startsWith('node:') || id === 'react/jsx-runtime';

export default [
  // ESM + CJS for bundlers and Node; declarations once, under dist/types.
  {
    input: { index: 'src/index.ts', server: 'src/server/index.ts', react: 'src/react/index.ts' },
    external,
    output: [
      { dir: 'dist', format: 'es', entryFileNames: '[name].mjs', chunkFileNames: 'chunks/[name]-[hash].mjs', banner: useClient },
      { dir: 'dist', format: 'cjs', entryFileNames: '[name].cjs', chunkFileNames: 'chunks/[name]-[hash].cjs', exports: 'named', banner: useClient },
    ],
    plugins: [typescript({ tsconfig: './tsconfig.build.json', declaration: true, declarationDir: 'dist/types' })],
  },
  // UMD for a <script> tag: bundled from the client entry alone (rollup cannot code-split UMD).
  {
    input: 'src/umd.ts',
    output: [
      { file: 'dist/wirefall.umd.js', format: 'umd', name: 'Wirefall' },
      { file: 'dist/wirefall.umd.min.js', format: 'umd', name: 'Wirefall', plugins: [terser({ compress: { passes: 2 }, mangle: { properties: false } })] },
    ],
    plugins: [typescript({ tsconfig: './tsconfig.build.json', declaration: false, declarationDir: undefined, outDir: undefined })],
  },
  // The hostile-network lab (lab/): the one build the demo (examples/chat), scripts/screenshots.mjs
  // and bench/ load. Product tooling, not package API: package.json `files` leaves it out.
  {
    input: 'lab/index.ts',
    external: (id) => id.startsWith('node:'),
    output: { file: 'dist/lab.mjs', format: 'es' },
    plugins: [typescript({ tsconfig: false, include: ['lab/*.ts'], compilerOptions: { target: 'ES2022', module: 'ESNext', moduleResolution: 'Bundler', strict: true, types: ['node'], lib: ['ES2022', 'DOM'] } })],
  },
];
