/**
 * A tab back from the back/forward cache heard nothing while it was away: no `assigned`, no
 * `done`. Once it knows the group's mirror again, each of its unsettled calls is one of four:
 * numbered (in the mirror: the session sends it), acknowledged meanwhile (it settles), numbered
 * and dropped meanwhile (its session ended: rejected, maybe delivered, as a lost session's sends
 * are), or never numbered (the caller submits it again). A send in flight when the tab left was
 * numbered by the leader before it heard the `leave`, if at all: the mirror or the acknowledged
 * ids know of it, so it is never sent twice (docs/sharing.md, "Back/forward cache").
 */
import type { Calls } from './calls';
import type { Mirror } from './mirror';

export function reconcile(calls: Calls, mirror: Mirror, tab: string): void {
  for (const id of calls.ids()) {
    const call = calls.get(id)!;
    if (mirror.has(tab, id)) calls.numbered(id);
    else if (call.method === 'send' && id <= mirror.ackedUpTo(tab)) calls.settle(id, true, undefined, undefined);
    else if (call.numbered) calls.settle(id, false, undefined, { code: 'WF_SESSION_LOST', message: 'the session ended while this page was in the back/forward cache' });
  }
}
