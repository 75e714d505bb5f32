import { CloseCode } from '../protocol/close-codes';
import { encodeFrame } from '../protocol/encode';
import { PROTOCOL_VERSION } from '../protocol/frames';
import { Attempt } from './attempt';
import type { ClientSetup } from './client';
import type { ErrorCode } from '../protocol/errors';
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

/** @internal */
export function runProbe(setup: ClientSetup, options: ClientOptions): Promise<ProbeReport> {
  const t = resolveTimings(options);
  const hello = encodeFrame.hello({ v: PROTOCOL_VERSION, ...(options.auth !== undefined ? { auth: typeof options.auth === 'function' ? (options.auth as () => unknown)() : options.auth } : {}) });
  const tries = setup.rungs.map(
    (rung) =>
      new Promise<ProbeResult>((resolve) => {
        const factory = setup.factories[rung.name];
        if (!factory) return resolve({ rung: rung.name, url: rung.url, ok: false, reason: 'WF_INVALID', message: 'no transport', duration: 0 });
        new Attempt(
          rung,
          factory,
          hello,
          setup.platform,
          { open: t.openTimeout, welcome: t.welcomeTimeout },
          (a) => {
            // A clean close ends the probe's session on the server at once.
            a.transport.close(CloseCode.Normal, 'probe done');
            resolve({ rung: rung.name, url: rung.url, ok: true, duration: a.record?.duration ?? 0 });
          },
          (a, err) =>
            resolve({ rung: rung.name, url: rung.url, ok: false, reason: err.code, status: err.status, message: err.message, duration: a.record?.duration ?? 0 }),
        );
      }),
  );
  return Promise.all(tries).then((rungs) => ({ rungs, best: rungs.find((r) => r.ok)?.rung ?? null }));
}
