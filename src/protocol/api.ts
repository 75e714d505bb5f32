/**
 * The types both sides are written against: what each side may send, and the rungs of the
 * ladder. The client, the server and the React bindings all import them from here.
 */
import type { Sendable, Wire } from './data';

/**
 * What a client may send and what its server may push: message names mapped to data shapes.
 * @example
 * type Chat = {
 *   client: { say: { text: string } };
 *   server: { said: { from: string; text: string } };
 * };
 */
export interface ApiShape {
  client: object;
  server: object;
  /**
   * Optional: the calls a client may make with `client.request()`, each as `[argument, reply]`;
   * the server answers them with `conn.handle()`.
   * @example rpc: { getUser: [{ id: string }, { name: string }] }
   */
  rpc?: object;
}

/** The API of a client or server created without a type argument: any name, any data that can make the trip. */
export type AnyApi = { client: Record<string, Wire>; server: Record<string, Wire>; rpc?: Record<string, [Wire, Wire]> };

/**
 * `Api` when every message shape (and every call's argument and reply) can make the trip; a
 * compile error naming the constraint otherwise. Declare an API through it to have a `Date`, a
 * `Map`, a function or an instance with methods refused by the compiler, not only at run time
 * (`send` rejects them with `WF_INVALID` either way). Untyped clients and servers check every
 * value against {@link Wire}.
 * @example
 * export type Chat = SendableApi<{ client: { say: { text: string } }; server: { said: { text: string; at: number } } }>;
 */
export type SendableApi<Api extends ApiShape & Checked<Api>> = Api;

type Checked<Api> = {
  client: { [K in keyof Part<Api, 'client'>]: Sendable<Part<Api, 'client'>[K]> };
  server: { [K in keyof Part<Api, 'server'>]: Sendable<Part<Api, 'server'>[K]> };
  rpc?: { [K in keyof Part<Api, 'rpc'>]: Part<Api, 'rpc'>[K] extends readonly [infer A, infer B] ? readonly [Sendable<A>, Sendable<B>] : never };
};
type Part<Api, P extends string> = Api extends { [Q in P]?: infer X } ? NonNullable<X> : {};

/** The transport ladder, best first. */
export type RungName = 'wss' | 'ws' | 'sse' | 'longpoll';
export const LADDER: readonly RungName[] = ['wss', 'ws', 'sse', 'longpoll'];
