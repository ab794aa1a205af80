// The loader hooks of module-log.ts (they run on Node's loader thread).
import fs from 'node:fs';

let file: string | undefined;

export function initialize(data: { file?: string }): void {
  file = data.file;
}

type Next = (url: string, context: unknown) => Promise<unknown>;

export async function load(url: string, context: unknown, next: Next): Promise<unknown> {
  if (file) fs.appendFileSync(file, `${url}\n`);
  return next(url, context);
}
