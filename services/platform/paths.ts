import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

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

/** The MiniLM model folder's name under `$CACHE_DIR/models` (ops/setup.sh unpacks it there). */
export const MINILM_MODEL_FOLDER = 'all-minilm-l6-v2';

/**
 * Where the all-MiniLM-L6-v2 ONNX model and its tokenizer.json are: `MINILM_MODEL_DIR` if set,
 * else `$CACHE_DIR/models/all-minilm-l6-v2` (CACHE_DIR defaults to `<repo>/.cache`, as in
 * ops/setup.sh, which exports it to the app and to jest). Relative paths resolve against the
 * working directory, as the shell scripts do.
 */
export function miniLmModelDir(env: NodeJS.ProcessEnv = process.env): string {
  const explicit = env.MINILM_MODEL_DIR?.trim();
  if (explicit) return resolve(explicit);
  const cache = env.CACHE_DIR?.trim();
  return join(cache ? resolve(cache) : repoPath('.cache'), 'models', MINILM_MODEL_FOLDER);
}
