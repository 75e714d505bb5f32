// A chat on wirefall/react: connection state and rung, a message list, and a form.
import { useState, type FormEvent } from 'react';
import type { WirefallError } from 'wirefall';
import { createWirefallReact } from 'wirefall/react';

/** What this app and its server say to each other (server.mjs beside this file). */
export type ChatApi = {
  client: { say: { text: string } };
  server: { said: { from: string; text: string; at: number }; hello: { name: string } };
};

// Bound once to the message map: every call below is typed without type arguments.
export const { WirefallProvider, useConnection, useSubscription, useSend } = createWirefallReact<ChatApi>();

function StatusBar() {
  // Re-renders only when the state or the rung changes, not on every message.
  const { state, rung } = useConnection();
  return (
    <p className={`status ${state}`}>
      {state === 'open' ? `connected via ${rung}` : state === 'closed' ? 'disconnected' : `${state}…`}
    </p>
  );
}

function Room() {
  const [me, setMe] = useState<string>();
  const [lines, setLines] = useState<ChatApi['server']['said'][]>([]);
  const [text, setText] = useState('');
  const [problem, setProblem] = useState<string>();
  const send = useSend();

  // Inline handlers are fine: each subscription is made once and always calls the latest one.
  useSubscription('hello', ({ name }) => setMe(name));
  useSubscription('said', (m) => setLines((all) => [...all.slice(-99), m]));

  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    if (!text.trim()) return;
    setText('');
    // Resolves when the server acknowledged; queued while reconnecting, never lost or doubled.
    send('say', { text }).then(
      () => setProblem(undefined),
      (err: WirefallError) => setProblem(`not delivered: ${err.code}`),
    );
  };

  return (
    <>
      <ul>
        {lines.map((m) => (
          <li key={`${m.at}-${m.from}-${m.text}`}>
            <b>{m.from === me ? 'you' : m.from}</b>: {m.text}
          </li>
        ))}
      </ul>
      <form onSubmit={onSubmit}>
        <input value={text} onChange={(e) => setText(e.target.value)} placeholder="say something" maxLength={500} />
        <button>send</button>
      </form>
      {problem && <p className="problem">{problem}</p>}
    </>
  );
}

/** The app: one client for the whole tree, created after mount and closed on unmount. */
export function App({ url }: { url: string }) {
  return (
    <WirefallProvider url={url}>
      <h1>wirefall chat</h1>
      <StatusBar />
      <Room />
    </WirefallProvider>
  );
}
