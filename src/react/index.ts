/**
 * wirefall for React: one client shared through a provider, typed hooks, StrictMode- and
 * SSR-safe. React (18 or 19) is an optional peer dependency of wirefall, used only here.
 *
 * @example
 * import { createWirefallReact } from 'wirefall/react';
 * type Chat = { client: { say: { text: string } }; server: { said: { from: string; text: string } } };
 * export const { WirefallProvider, useConnection, useSubscription, useSend } = createWirefallReact<Chat>();
 *
 * function Room() {
 *   const { state, rung } = useConnection();
 *   const send = useSend();
 *   useSubscription('said', (m) => console.log(m.from, m.text));
 *   return <button disabled={state !== 'open'} onClick={() => void send('say', { text: 'hi' })}>hi via {rung}</button>;
 * }
 * <WirefallProvider url="https://example.com/wirefall"><Room /></WirefallProvider>;
 */
import type { ReactElement } from 'react';
import type { ApiShape, Client } from '../core/client';
import type { ApiCheck } from '../protocol/api';
import { useClient, WirefallProvider, type WirefallProviderProps } from './provider';
import { useConnection, type ConnectionSnapshot } from './use-connection';
import { useSend, type Send } from './use-send';
import { useSubscription } from './use-subscription';
import { useDiagnostics, type Diagnostics } from './use-diagnostics';

export { WirefallProvider, useClient } from './provider';
export type { WirefallProviderProps, DefaultApi } from './provider';
export { useConnection } from './use-connection';
export type { ConnectionSnapshot } from './use-connection';
export { useSubscription } from './use-subscription';
export { useSend } from './use-send';
export { useDiagnostics } from './use-diagnostics';
export type { Diagnostics } from './use-diagnostics';
export type { Send } from './use-send';

/** The provider and hooks of {@link createWirefallReact}, typed for one message map. */
export interface WirefallReact<Api extends ApiShape> {
  /** {@link WirefallProvider}: `client: Client<Api>`, or `url` + `options`. */
  WirefallProvider: (props: WirefallProviderProps<Api>) => ReactElement;
  /** {@link useClient}: the client, or null before it exists. */
  useClient: () => Client<Api> | null;
  /** {@link useConnection}: `{ state, rung }`, re-rendering only on change. */
  useConnection: () => ConnectionSnapshot;
  /** {@link useSubscription}: server-side names only; the handler gets that message's data. */
  useSubscription: <K extends keyof Api['server'] & string>(type: K, handler: (data: Api['server'][K]) => void) => void;
  /** {@link useSend}: a stable `send` for client-side names and their data. */
  useSend: () => Send<Api>;
  /** {@link useDiagnostics}: rtt, the last error, attempts, buffered. */
  useDiagnostics: (options?: { intervalMs?: number | undefined }) => Diagnostics;
}

/**
 * Binds the provider and hooks to one message map, so every call site is typed without type
 * arguments. It creates nothing at run time: the returned functions are the plain exports, and
 * all of them share one context, so typed and plain hooks can be mixed under one provider.
 *
 * @example
 * // realtime.ts
 * export const { WirefallProvider, useClient, useConnection, useSubscription, useSend } = createWirefallReact<Chat>();
 * // anywhere below the provider
 * useSubscription('said', (m) => m.text); // m: { from: string; text: string }
 * useSend()('say', { text: 'hi' });          // a typo in the name or the shape is a compile error
 */
export function createWirefallReact<Api extends ApiShape & ApiCheck<Api>>(): WirefallReact<Api> {
  return { WirefallProvider, useClient, useConnection, useSubscription, useSend, useDiagnostics } as unknown as WirefallReact<Api>;
}
