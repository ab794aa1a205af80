// A remote step cache over Bazel's HTTP remote-cache protocol, as bazel-remote, BuildBuddy and an
// nginx WebDAV location serve it: GET/PUT BASE/ac/<key> holds an ActionResult (core/cache/action-result.ts),
// GET/HEAD/PUT BASE/cas/<sha256> one blob. A 404 is a miss; anything else that is not a 2xx, a
// refused connection, a request slower than the timeout, or a blob whose bytes do not hash to its
// name is a RemoteFailure, which core/cache/step-cache.ts turns into one warning and a local run.
import fs from 'node:fs';
import crypto from 'node:crypto';
import type { ActionEntry, CachedOutput } from './action-result.js';
import { decodeActionResult, encodeActionResult } from './action-result.js';

export type RemoteMode = 'read-only' | 'read-write';

export interface RemoteOptions {
  /** The cache's base URL; /ac/ and /cas/ are below it. */
  url: string;
  /** Sent with every request (authentication: `Authorization: Bearer ...`). */
  headers: Record<string, string>;
  mode: RemoteMode;
  /** Each request, body included, must finish within this. */
  timeoutMs: number;
}

export class RemoteFailure extends Error {
  constructor(
    message: string,
    /** `unreachable` and `timeout` stop using the server for the rest of the run; a bad blob is only a miss. */
    readonly kind: 'unreachable' | 'timeout' | 'http' | 'corrupt',
  ) {
    super(message);
  }
}

export class RemoteStore {
  private readonly base: string;

  constructor(readonly options: RemoteOptions) {
    this.base = options.url.replace(/\/+$/, '');
  }

  get writable(): boolean {
    return this.options.mode === 'read-write';
  }

  async entry(key: string, signal?: AbortSignal): Promise<ActionEntry | undefined> {
    const url = `${this.base}/ac/${key}`;
    return this.request('GET', url, signal, async (res) => {
      if (res.status === 404) return undefined;
      expectOk(res, 'GET', url);
      const entry = decodeActionResult(new Uint8Array(await res.arrayBuffer()));
      if (!entry) throw new RemoteFailure(`GET ${url}: not an ActionResult`, 'corrupt');
      return entry;
    });
  }

  /** Downloads a blob to `dest`, checking its size and SHA-256 as it streams; false on a 404. */
  async download(out: CachedOutput, dest: string, signal?: AbortSignal): Promise<boolean> {
    const url = `${this.base}/cas/${out.hash}`;
    return this.request('GET', url, signal, async (res) => {
      if (res.status === 404) return false;
      expectOk(res, 'GET', url);
      const hash = crypto.createHash('sha256');
      let size = 0;
      const fd = fs.openSync(dest, 'w');
      try {
        if (res.body) {
          for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
            hash.update(chunk);
            size += chunk.length;
            fs.writeSync(fd, chunk);
          }
        }
      } finally {
        fs.closeSync(fd);
      }
      const got = hash.digest('hex');
      if (got !== out.hash || size !== out.size) {
        fs.rmSync(dest, { force: true });
        throw new RemoteFailure(`GET ${url}: got ${size} bytes hashing to ${got.slice(0, 12)}..., expected ${out.size} bytes of ${out.hash.slice(0, 12)}...`, 'corrupt');
      }
      return true;
    });
  }

  async hasBlob(hash: string, signal?: AbortSignal): Promise<boolean> {
    const url = `${this.base}/cas/${hash}`;
    return this.request('HEAD', url, signal, async (res) => {
      if (res.status === 404) return false;
      expectOk(res, 'HEAD', url);
      return true;
    });
  }

  async putBlob(hash: string, file: string, signal?: AbortSignal): Promise<void> {
    if (await this.hasBlob(hash, signal)) return;
    await this.put(`${this.base}/cas/${hash}`, fs.readFileSync(file), signal);
  }

  /** Uploaded after its blobs, so a reader never finds an entry whose blobs are not there yet. */
  async putEntry(key: string, outputs: readonly CachedOutput[], log: string, signal?: AbortSignal): Promise<void> {
    await this.put(`${this.base}/ac/${key}`, encodeActionResult(outputs, log), signal);
  }

  private async put(url: string, body: Buffer, signal?: AbortSignal): Promise<void> {
    await this.request('PUT', url, signal, async (res) => {
      expectOk(res, 'PUT', url);
      await res.arrayBuffer();
    }, body);
  }

  private async request<T>(method: string, url: string, signal: AbortSignal | undefined, handle: (res: Response) => Promise<T>, body?: Buffer): Promise<T> {
    const timeout = AbortSignal.timeout(this.options.timeoutMs);
    const all = signal ? AbortSignal.any([signal, timeout]) : timeout;
    try {
      const res = await fetch(url, { method, headers: this.options.headers, signal: all, ...(body ? { body: body as Uint8Array<ArrayBuffer> } : {}) });
      return await handle(res);
    } catch (e) {
      if (e instanceof RemoteFailure) throw e;
      if (signal?.aborted) throw e;
      if (timeout.aborted) throw new RemoteFailure(`${method} ${url}: no answer within ${this.options.timeoutMs / 1000} s`, 'timeout');
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      throw new RemoteFailure(`${method} ${url}: ${cause?.code ?? cause?.message ?? (e as Error).message}`, 'unreachable');
    }
  }
}

function expectOk(res: Response, method: string, url: string): void {
  if (res.status < 200 || res.status > 299) throw new RemoteFailure(`${method} ${url}: HTTP ${res.status} ${res.statusText}`.trimEnd(), 'http');
}
