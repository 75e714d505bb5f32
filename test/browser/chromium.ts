import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

/** Where Debian's chromium lives; `CHROMIUM_PATH` overrides. Undefined when there is none. */
export function findChromium(): string | undefined {
  const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'];
  for (const c of candidates) if (c && existsSync(c)) return c;
  try {
    return execFileSync('which', ['chromium'], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export const INSTALL_LINE = 'sudo apt-get install chromium   # Debian/Ubuntu; or set CHROMIUM_PATH';

/**
 * A Chromium that pages can really leave: started by us and attached over CDP with Playwright's
 * `noDefaults`, pages in its default context. `chromium.launch` cannot do it: Playwright turns on
 * focus emulation for every page it opens, which holds the page visible (a captured page), so
 * `Page.setWebLifecycleState('frozen')` did nothing (no `freeze` event, timers ran on); and it
 * passes `--disable-back-forward-cache`.
 */
export async function launchLifecycleChromium(executablePath: string, extraFlags: string[] = []) {
  const { spawn } = await import('node:child_process');
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { chromium } = await import('playwright-core');
  const profile = mkdtempSync('/tmp/wirefall-lifecycle-');
  // Its own process group: closing ends the helpers it started too (they write to the profile).
  const child = spawn(executablePath, [...CHROMIUM_FLAGS, '--remote-debugging-port=0', `--user-data-dir=${profile}`, ...extraFlags, 'about:blank'], { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  const endpoint = await new Promise<string>((resolve, reject) => {
    let err = '';
    const t = setTimeout(() => reject(new Error(`Chromium did not start: ${err}`)), 15_000);
    child.stderr!.on('data', (b: Buffer) => {
      err += b;
      const m = /DevTools listening on (ws:\/\/\S+)/.exec(err);
      if (m) (clearTimeout(t), resolve(m[1]!));
    });
    child.once('exit', (code) => (clearTimeout(t), reject(new Error(`Chromium exited (${code}): ${err}`))));
  });
  const browser = await chromium.connectOverCDP(endpoint, { noDefaults: true, isLocal: true });
  return {
    browser,
    context: browser.contexts()[0]!,
    close: async () => {
      await browser.close().catch(() => {});
      const gone = child.exitCode === null ? new Promise((r) => child.once('exit', r)) : undefined;
      const group = (signal: NodeJS.Signals) => {
        try {
          process.kill(-child.pid!, signal);
        } catch {
          /* already gone */
        }
      };
      group('SIGTERM');
      if (gone) await Promise.race([gone, new Promise((r) => setTimeout(r, 5000))]);
      group('SIGKILL');
      // The helpers' last writes may still land for a moment: retried, bounded.
      for (let i = 0; ; i++) {
        try {
          rmSync(profile, { recursive: true, force: true });
          return;
        } catch (e) {
          if (i === 30) throw e;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    },
  };
}
