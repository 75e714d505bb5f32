// React consumer: a client made by `wirefall` fits the provider of `wirefall/react` (one `Client`
// type across entries, not two incompatible copies).
import { connect } from 'wirefall';
import { createWirefallReact } from 'wirefall/react';
import type { Chat } from './api.js';

const { WirefallProvider, useSend, useSubscription } = createWirefallReact<Chat>();
const client = connect<Chat>('http://127.0.0.1:1/wirefall');

function Room() {
  const send = useSend();
  useSubscription('said', (m) => m.text.toUpperCase());
  // @ts-expect-error: 'shout' is not a client message
  void send('shout', {});
  return <button onClick={() => void send('say', { text: 'hi' })}>hi</button>;
}
export const app = (
  <WirefallProvider client={client}>
    <Room />
  </WirefallProvider>
);
