import { BROWSER_STORAGE, nodeBuiltin } from '../core/node-builtins';

/**
 * Writes `files` (name → bytes or text) as the directory `dir`, atomically: everything goes into a temporary sibling
 * (`<dir>.tmp-…`), which is then renamed into place; an existing `dir` is moved aside first and removed after. A
 * crash before the rename leaves only the temporary directory (readers skip `.tmp-` names; the next write of the
 * same `dir` removes it). On error the temporary directory is removed and the error is rethrown. Node only.
 */
export function writeDirectoryAtomically(dir: string, files: Record<string, Uint8Array | string>): void {
  const fs = nodeBuiltin('fs', 'writing a directory', BROWSER_STORAGE);
  const path = nodeBuiltin('path', 'writing a directory', BROWSER_STORAGE);
  const parent = path.dirname(dir);
  const temporary = `${dir}.tmp-${process.pid}-${Date.now()}`;
  try {
    fs.mkdirSync(parent, { recursive: true });
    for (const stale of fs.readdirSync(parent).filter((f) => f.startsWith(`${path.basename(dir)}.tmp-`))) {
      fs.rmSync(path.join(parent, stale), { recursive: true, force: true });
    }
    fs.mkdirSync(temporary);
    for (const [name, content] of Object.entries(files)) fs.writeFileSync(path.join(temporary, name), content);
    const old = `${dir}.old-${process.pid}-${Date.now()}`;
    if (fs.existsSync(dir)) fs.renameSync(dir, old);
    fs.renameSync(temporary, dir);
    fs.rmSync(old, { recursive: true, force: true });
  } catch (error) {
    fs.rmSync(temporary, { recursive: true, force: true });
    throw error;
  }
}
