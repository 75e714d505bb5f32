// The message map every consumer fixture here is typed by.
export type Chat = {
  client: { say: { text: string } };
  server: { said: { from: string; text: string } };
};
