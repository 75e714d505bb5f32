import type { RungName } from '../protocol/api';
import type { ErrorCode } from '../protocol/errors';
import type { AttemptRecord } from './attempt';

/*
 * Human sentences for attempt records: what the demo built from three tables of its own. Apps
 * that show a ladder or a support page use these; apps that do not, import nothing from here, and
 * their bundle carries none of the text (`sideEffects: false`; bench/bundle.mjs checks the size).
 */

/** What each rung is called in a sentence. */
export const RUNG_LABEL: Readonly<Record<RungName, string>> = { wss: 'WebSocket over TLS', ws: 'WebSocket', sse: 'Server-Sent Events', longpoll: 'long-polling' };

/** What a failure reason means for the path, in a few words (docs/errors.md has the full table). */
const PHRASE: Partial<Record<ErrorCode, string>> = {
  WF_NETWORK: 'refused or unreachable (the browser shows no status)',
  WF_PROXY_AUTH: 'a proxy wants credentials (407)',
  WF_HANDSHAKE: 'handshake broken by a proxy',
  WF_UPGRADE_STRIPPED: 'a proxy removed the Upgrade header',
  WF_OPEN_TIMEOUT: 'no answer, held back',
  WF_NO_DATA: 'frames dropped after the upgrade',
  WF_NO_WELCOME: 'our hello was never answered (uplink swallowed)',
  WF_STALLED: 'went silent',
  WF_UPLINK_STALLED: 'uplink swallowed',
  WF_DISCONNECTED: 'connection cut',
  WF_UNAUTHORIZED: 'refused by the server',
  WF_PROTOCOL: 'protocol error',
  WF_TRANSPORT: 'its transport failed to start',
  WF_AUTH: 'no credentials (the auth callback failed)',
};

/** An abandoned attempt's reason says how far it had got when another rung won. */
const STAGE: Partial<Record<ErrorCode, string>> = {
  WF_OPEN_TIMEOUT: 'no answer yet',
  WF_NO_DATA: 'opened, then silence',
  WF_NO_WELCOME: 'greeted, no welcome yet',
};

/** The same, as the headline says it about a rung above the one in use. */
const LOST: Partial<Record<ErrorCode, string>> = {
  WF_NO_DATA: 'opened, then silence: frames dropped after the upgrade',
  WF_OPEN_TIMEOUT: 'no answer, held back',
  WF_NO_WELCOME: 'greeted, but too slow to welcome us',
};

/**
 * Why an attempt did not verify, in a few words and without the rung: "frames dropped after the
 * upgrade", "refused with HTTP 403", "opened, then silence; another rung won"; for a verified one,
 * "round trip verified".
 */
export function describeReason(a: Pick<AttemptRecord, 'outcome' | 'reason' | 'status'>): string {
  if (a.outcome === 'verified') return 'round trip verified';
  const phrase = a.reason === 'WF_REFUSED' ? `refused with HTTP ${a.status ?? '?'}` : (a.reason && PHRASE[a.reason]) || a.reason || 'unknown';
  return a.outcome === 'abandoned' ? `${(a.reason && STAGE[a.reason]) || phrase}; another rung won` : phrase;
}

/**
 * One attempt as a sentence for people: "WebSocket blocked: frames dropped after the upgrade",
 * "WebSocket over TLS lost the race: no answer, held back", "Server-Sent Events: round trip verified".
 * @example
 * const why = client.attempts.filter((a) => a.outcome !== 'verified').map(describeAttempt);
 */
export function describeAttempt(a: Pick<AttemptRecord, 'rung' | 'outcome' | 'reason' | 'status'>): string {
  const name = RUNG_LABEL[a.rung] ?? a.rung;
  if (a.outcome === 'verified') return `${name}: round trip verified`;
  if (a.outcome === 'abandoned') return `${name} lost the race: ${(a.reason && LOST[a.reason]) || (a.reason && STAGE[a.reason]) || a.reason || 'another rung was faster'}`;
  return `${name} blocked: ${a.reason === 'WF_NETWORK' ? 'network error' : describeReason(a)}`;
}
