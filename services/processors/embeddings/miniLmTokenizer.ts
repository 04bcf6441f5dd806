import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';

/** The files ops/setup.sh unpacks into the model folder (see services/platform/paths.ts). */
export const MINILM_ONNX_FILE = 'all-minilm-l6-v2.onnx';
export const MINILM_TOKENIZER_FILE = 'all-minilm-l6-v2-tokenizer.json';
export const MINILM_MODEL = 'all-MiniLM-L6-v2';
/**
 * sentence-transformers' max_seq_length for all-MiniLM-L6-v2, [CLS] and [SEP] included. The
 * tokenizer file says 128 (truncation and fixed padding); tokenizers.js ignores both, and we
 * truncate to this window and pad to the longest text of a batch ourselves.
 */
export const MINILM_MAX_TOKENS = 256;

const CLS = '[CLS]';
const SEP = '[SEP]';

/**
 * The BERT word-piece tokenizer of all-MiniLM-L6-v2 (pure JS, synchronous: a 400-word essay takes
 * about a millisecond). Used on the main thread to count tokens for passage splitting, and in the
 * inference worker to build the model's inputs.
 */
export class MiniLmTokenizer {
  private readonly clsId: number;
  private readonly sepId: number;

  private constructor(private readonly tokenizer: Tokenizer) {
    const cls = tokenizer.token_to_id(CLS);
    const sep = tokenizer.token_to_id(SEP);
    if (cls === undefined || sep === undefined) throw new Error(`tokenizer has no ${CLS}/${SEP} token`);
    this.clsId = cls;
    this.sepId = sep;
  }

  static fromModelDir(modelDir: string): MiniLmTokenizer {
    const file = join(modelDir, MINILM_TOKENIZER_FILE);
    const json: unknown = JSON.parse(readFileSync(file, 'utf8'));
    return new MiniLmTokenizer(new Tokenizer(json as object, {}));
  }

  /** Word pieces of `text`, without [CLS]/[SEP] (so a window holds `maxTokens - 2` of them). */
  countTokens(text: string): number {
    return this.tokenizer.encode(text, { add_special_tokens: false }).ids.length;
  }

  /** `[CLS] pieces… [SEP]`, the pieces truncated on the right to fit `maxTokens` in all. */
  encodeForModel(text: string, maxTokens: number = MINILM_MAX_TOKENS): number[] {
    const pieces = this.tokenizer.encode(text, { add_special_tokens: false }).ids;
    const kept = pieces.length > maxTokens - 2 ? pieces.slice(0, maxTokens - 2) : pieces;
    return [this.clsId, ...kept, this.sepId];
  }
}
