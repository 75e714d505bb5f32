import { CloseCode } from '../protocol/close-codes';
import { encodeFrame } from '../protocol/encode';
import { PROTOCOL_VERSION } from '../protocol/frames';
import { race } from './race';
import type { ClientSetup } from './client';
import { WirefallError, type ErrorCode } from '../protocol/errors';
import { authDeadline, credentials, staleCredentials } from './auth';
import { resolveTimings, type ClientOptions } from './options';
import type { RungName } from './rungs';

/** How one rung fared in `probe()`. */
export interface ProbeResult {
  rung: RungName;
  url: string;
  /** A verified hello/welcome round trip passed on this rung. */
  ok: boolean;
  reason?: ErrorCode;
  status?: number;
  message?: string;
  /** Time to the verified round trip (or to the failure), ms. */
  duration: number;
}

export interface ProbeReport {
  /** Every rung of the ladder, in ladder order, each tried on its own. */
  rungs: ProbeResult[];
  /** The best rung that works, or null. */
  best: RungName | null;
}

/**
 * @internal Every rung at once, with one hello. `auth` is awaited first (it may return a promise);
 * when the server refuses it with 401 and `auth` is a function, the probe runs once more with
 * fresh credentials, as a client would.
 */
export async function runProbe(setup: ClientSetup, options: ClientOptions, retried = false): Promise<ProbeReport> {
  const t = resolveTimings(options);
  let hello: string;
  try {
    const h = credentials(options.auth, (auth) => encodeFrame.hello({ v: PROTOCOL_VERSION, ...(auth !== undefined ? { auth } : {}) }));
    hello = typeof h === 'string' ? h : await authDeadline(h, setup.platform.clock, t.welcomeTimeout);
  } catch (e) {
    const err = e as WirefallError;
    return { best: null, rungs: setup.rungs.map((r) => ({ rung: r.name, url: r.url, ok: false, reason: err.code, message: err.message, duration: 0 })) };
  }
  // Each rung on its own: a race of one rung.
  const tries = setup.rungs.map(
    (rung) =>
      new Promise<ProbeResult>((resolve) => {
        if (!setup.factories[rung.name]) return resolve({ rung: rung.name, url: rung.url, ok: false, reason: 'WF_INVALID', message: 'no transport', duration: 0 });
        race(setup, t, hello, [rung], ({ win, error, records }) => {
          const duration = records[0]?.duration ?? 0;
          // Verified. A clean close ends the probe's session on the server at once.
          if (win) win.transport.close(CloseCode.Normal, 'probe done');
          resolve(win ? { rung: rung.name, url: rung.url, ok: true, duration } : { rung: rung.name, url: rung.url, ok: false, reason: error!.code, status: error!.status, message: error!.message, duration });
        });
      }),
  );
  const rungs = await Promise.all(tries);
  const stale = rungs.some((r) => staleCredentials(options.auth, new WirefallError(r.reason ?? 'WF_INVALID', '', { status: r.status })));
  if (stale && !retried) return runProbe(setup, options, true);
  return { rungs, best: rungs.find((r) => r.ok)?.rung ?? null };
}
