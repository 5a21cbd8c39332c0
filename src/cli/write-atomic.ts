import * as fs from 'fs';
import * as path from 'path';

/** Writes `content` to `file` atomically (a temporary file, then a rename), creating its directory. */
export function writeAtomic(file: string, content: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, content);
  fs.renameSync(temporary, file);
}
