import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The repository root, whether running from sources (ts-jest) or from the compiled `dist/` tree. */
function findRoot(start: string): string {
  let dir = start;
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`No package.json above ${start}`);
    dir = parent;
  }
  return dir;
}

export const REPO_ROOT = findRoot(__dirname);

export const repoPath = (...segments: string[]): string => join(REPO_ROOT, ...segments);
