import { spawn } from 'node:child_process';

/** Runs a command to its end (killed after 30 s); resolves with its exit code and its output (stdout and stderr). */
export function runCommand(cmd: string, args: string[], cwd: string, env: Record<string, string> = {}): Promise<{ code: number | null; out: string }> {
  return new Promise((done, fail) => {
    const child = spawn(cmd, args, { cwd, env: { ...process.env, NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', (e) => (clearTimeout(timer), fail(e)));
    child.on('close', (code) => (clearTimeout(timer), done({ code, out })));
  });
}
