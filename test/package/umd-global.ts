// A classic script (no import or export) using the UMD global that dist/wirefall.umd.d.ts declares.
const umdClient = Wirefall.connect('/wirefall');
umdClient.subscribe('said', (m) => console.log(m));
const umdVersion: number = Wirefall.PROTOCOL_VERSION;
// @ts-expect-error: the UMD global has no server
Wirefall.createServer();
