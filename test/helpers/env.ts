// One environment variable set for the length of a call, then put back as it was: uvu runs every test
// file in one process, so a variable left set would leak into the files after it.
export async function withEnv<T>(name: string, value: string, fn: () => Promise<T> | T): Promise<T> {
  const before = process.env[name];
  process.env[name] = value;
  try {
    return await fn();
  } finally {
    if (before === undefined) delete process.env[name];
    else process.env[name] = before;
  }
}
