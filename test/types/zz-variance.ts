import { connect, type Client } from '/work/wt-feat/src/index';
type Chat = { client: { say: { text: string } }; server: { said: { text: string } } };
const c = connect<Chat>('http://x');
const any: Client = c;
void any;
