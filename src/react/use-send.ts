import type { ApiCheck, ApiShape } from '../protocol/api';
import { useStore, type DefaultApi } from './provider';

/**
 * A typed `send(type, data)`, like `client.send`: the promise resolves when the server has
 * acknowledged the message and rejects with a `WirefallError`.
 */
export type Send<Api extends ApiShape = DefaultApi> = <K extends keyof Api['client'] & string>(type: K, data: Api['client'][K]) => Promise<void>;

/**
 * The provider's `send`. The function is stable for the provider's lifetime (safe in effect
 * dependencies). Sends made before the provider has created its client (a child's mount effect
 * runs before the provider's) are queued and go out first, in call order, once it exists; if
 * the provider unmounts first they reject with `WF_CLOSED`.
 *
 * @example
 * const send = useSend<Chat>();
 * <form onSubmit={(e) => { e.preventDefault(); void send('say', { text }); }}>…</form>
 */
export function useSend<Api extends ApiShape & ApiCheck<Api> = DefaultApi>(): Send<Api> {
  return useStore('useSend').send as Send<Api>;
}
