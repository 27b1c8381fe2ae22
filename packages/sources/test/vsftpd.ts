// A real FTP server for tests: Debian's vsftpd on 127.0.0.1, anonymous read-only access to one
// directory, passive data connections on loopback. It runs as the user who starts it
// (run_as_launching_user), so no root is needed. vsftpd cannot listen on port 0 and say which port
// it got, so a free port is found first and handed to it.
import { spawn } from 'node:child_process';
import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const VSFTPD = '/usr/sbin/vsftpd';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = connect(port, '127.0.0.1');
    c.once('data', (d) => (c.destroy(), resolve(d.toString().startsWith('220'))));
    c.once('error', () => resolve(false));
  });
}

/** Serves `root` (readable by the current user) at ftp://127.0.0.1:<port>/ until close(). */
export async function startVsftpd(root: string): Promise<{ url: string; close(): Promise<void> }> {
  const conf = await mkdtemp(join(tmpdir(), 'cascade-vsftpd-'));
  const port = await freePort();
  await writeFile(
    join(conf, 'vsftpd.conf'),
    [
      'listen=YES', 'listen_ipv6=NO', 'listen_address=127.0.0.1', `listen_port=${port}`, 'background=NO',
      'anonymous_enable=YES', 'no_anon_password=YES', `anon_root=${root}`, 'local_enable=NO', 'write_enable=NO',
      'anon_world_readable_only=NO', 'run_as_launching_user=YES', 'check_shell=NO', 'seccomp_sandbox=NO',
      'pasv_enable=YES', 'pasv_address=127.0.0.1', 'port_enable=NO', 'max_per_ip=0', 'max_clients=0',
      'xferlog_enable=NO', `vsftpd_log_file=${join(conf, 'log')}`,
    ].join('\n') + '\n',
  );
  const child = spawn(VSFTPD, [join(conf, 'vsftpd.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  for (let i = 0; !(await answers(port)); i++) {
    if (i >= 100 || child.exitCode !== null) {
      child.kill();
      throw new Error(`vsftpd did not start on port ${port}: ${stderr.trim() || `exit ${child.exitCode}`}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url: `ftp://127.0.0.1:${port}/`,
    close: async () => {
      child.kill();
      await exited;
      await rm(conf, { recursive: true, force: true });
    },
  };
}
