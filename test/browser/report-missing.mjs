// Runs after the test suites: the browser suite only runs where a Chromium exists. Say so loudly
// when it did not, and fail where it must run (CI sets WIREFALL_REQUIRE_BROWSER=1).
import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter(Boolean);
let found = candidates.find((c) => existsSync(c));
if (!found) {
  try {
    found = execFileSync('which', ['chromium'], { encoding: 'utf8' }).trim();
  } catch {}
}
if (!found) {
  const bar = '!'.repeat(78);
  console.error(`\n${bar}\n!! BROWSER TESTS DID NOT RUN: no Chromium found.\n!! The real-browser suite (test/browser) proves the fallbacks in Chromium; install it:\n!!   sudo apt-get install chromium   # Debian/Ubuntu; or set CHROMIUM_PATH\n${bar}\n`);
  process.exit(process.env.WIREFALL_REQUIRE_BROWSER === '1' ? 1 : 0);
}
console.log(`browser tests ran in ${found}`);
