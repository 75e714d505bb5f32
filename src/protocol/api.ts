/**
 * The types both sides are written against: what each side may send, and the rungs of the
 * ladder. The client, the server and the React bindings all import them from here.
 */

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
}

/** The API of a client or server created without a type argument: any name, any data. */
export type AnyApi = { client: Record<string, unknown>; server: Record<string, unknown> };

/** The transport ladder, best first. */
export type RungName = 'wss' | 'ws' | 'sse' | 'longpoll';
export const LADDER: readonly RungName[] = ['wss', 'ws', 'sse', 'longpoll'];
