import { main } from '../../src/cli/main';

/** Runs the command line in-process, capturing what it writes to stderr (stdout is silenced). */
export async function cli(args: string[]): Promise<{ code: number; stderr: string }> {
  let stderr = '';
  const write = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += chunk.toString();
    return true;
  });
  const out = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
  try {
    return { code: await main(args), stderr };
  } finally {
    write.mockRestore();
    out.mockRestore();
  }
}
