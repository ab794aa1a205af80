// Debian's nginx as a Bazel HTTP remote cache, started and stopped by the test that needs it: its own
// config, prefix and document root in a temp dir, 127.0.0.1 only, on a port the test chose. As Bazel's
// documentation describes for its HTTP cache: a WebDAV location taking PUT (dav_methods PUT,
// create_full_put_path on). Beside it, the misbehaving servers the failure tests need:
//   /cache/   the cache (read-write)
//   /error/   answers 500 to everything
//   /slow/    the same files as /cache/, sent at 16 bytes a second (slower than any client timeout)
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface Nginx {
  port: number;
  /** http://127.0.0.1:PORT */
  origin: string;
  /** The document root: files of /cache/ are under root/cache/. */
  root: string;
  prefix: string;
  stop(): Promise<void>;
}

export function nginxBinary(): string | undefined {
  for (const p of ['/usr/sbin/nginx', '/usr/bin/nginx']) if (fs.existsSync(p)) return p;
  return undefined;
}

/** A port free on 127.0.0.1 now (the kernel picks it; nginx binds it a moment later). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

export async function startNginx(port?: number): Promise<Nginx> {
  const binary = nginxBinary();
  if (!binary) throw new Error('nginx is not installed (scripts/install-deps.sh installs it)');
  const prefix = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'kpipe-nginx-')));
  const root = path.join(prefix, 'root');
  fs.mkdirSync(path.join(root, 'cache'), { recursive: true });
  fs.mkdirSync(path.join(prefix, 'logs'));
  const chosen = port ?? (await freePort());
  const conf = path.join(prefix, 'nginx.conf');
  fs.writeFileSync(conf, config(prefix, root, chosen));
  const child = spawn(binary, ['-p', prefix, '-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += String(d)));
  await waitForPort(chosen, child, () => stderr);
  return {
    port: chosen,
    origin: `http://127.0.0.1:${chosen}`,
    root,
    prefix,
    stop: () => stop(child, prefix),
  };
}

function config(prefix: string, root: string, port: number): string {
  // As root, nginx's workers would switch to nobody, who cannot write the root a test made.
  const user = process.getuid?.() === 0 ? 'user root;\n' : '';
  return `${user}daemon off;
master_process off;
worker_processes 1;
pid ${prefix}/nginx.pid;
error_log ${prefix}/logs/error.log;
events { worker_connections 64; }
http {
  access_log ${prefix}/logs/access.log;
  client_body_temp_path ${prefix}/body;
  proxy_temp_path ${prefix}/proxy;
  fastcgi_temp_path ${prefix}/fastcgi;
  uwsgi_temp_path ${prefix}/uwsgi;
  scgi_temp_path ${prefix}/scgi;
  client_max_body_size 0;
  default_type application/octet-stream;
  server {
    listen 127.0.0.1:${port};
    root ${root};
    location /cache/ {
      dav_methods PUT;
      create_full_put_path on;
      dav_access user:rw group:r all:r;
    }
    location /error/ { return 500; }
    location /slow/ {
      alias ${root}/cache/;
      limit_rate 16;
    }
  }
}
`;
}

async function waitForPort(port: number, child: ChildProcess, stderr: () => string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`nginx exited ${child.exitCode}: ${stderr()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGKILL');
  throw new Error(`nginx did not listen on 127.0.0.1:${port}: ${stderr()}`);
}

async function stop(child: ChildProcess, prefix: string): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    await exited;
  }
  fs.rmSync(prefix, { recursive: true, force: true });
}
