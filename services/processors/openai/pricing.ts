/**
 * Token prices, in US cents per million tokens, per model: the JSON of `LLM_PRICES`, e.g.
 * `{"gpt-4o-mini":{"input_per_million":15,"output_per_million":60}}`.
 */
export interface ModelPrice {
  input_per_million: number;
  output_per_million: number;
}

export type PriceTable = Readonly<Record<string, ModelPrice>>;

/** OpenAI's list prices for the default models (cents per million tokens), used when none are configured. */
export const defaultPrices: PriceTable = {
  'gpt-4o-mini': { input_per_million: 15, output_per_million: 60 },
  'gpt-4.1-mini': { input_per_million: 40, output_per_million: 160 },
  'text-embedding-3-small': { input_per_million: 2, output_per_million: 0 },
};

export class InvalidPriceTableError extends Error {
  readonly code = 'INVALID_PRICE_TABLE';
  constructor(problem: string) {
    super(
      `LLM price table: ${problem} (expected JSON like {"gpt-4o-mini":{"input_per_million":15,"output_per_million":60}}, cents per million tokens)`,
    );
    this.name = 'InvalidPriceTableError';
  }
}

/** Parses and validates a price table given as JSON text (or already parsed). */
export function parsePriceTable(input: string | unknown): PriceTable {
  let value: unknown = input;
  if (typeof input === 'string') {
    try {
      value = JSON.parse(input);
    } catch {
      throw new InvalidPriceTableError('not valid JSON');
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidPriceTableError('must be a JSON object keyed by model name');
  }
  const table: Record<string, ModelPrice> = {};
  for (const [model, price] of Object.entries(value)) {
    if (typeof price !== 'object' || price === null) throw new InvalidPriceTableError(`"${model}" must be an object`);
    const p = price as Record<string, unknown>;
    for (const key of Object.keys(p)) {
      if (key !== 'input_per_million' && key !== 'output_per_million') {
        throw new InvalidPriceTableError(`"${model}.${key}" is not a known key`);
      }
    }
    const input_per_million = p.input_per_million;
    const output_per_million = p.output_per_million;
    if (typeof input_per_million !== 'number' || !Number.isFinite(input_per_million) || input_per_million < 0) {
      throw new InvalidPriceTableError(`"${model}.input_per_million" must be a number >= 0`);
    }
    if (typeof output_per_million !== 'number' || !Number.isFinite(output_per_million) || output_per_million < 0) {
      throw new InvalidPriceTableError(`"${model}.output_per_million" must be a number >= 0`);
    }
    table[model] = { input_per_million, output_per_million };
  }
  return table;
}

/** The price of `model`: exact name first, then without a dated snapshot suffix (`gpt-4o-mini-2024-07-18`). */
export function priceOf(table: PriceTable, model: string): ModelPrice | undefined {
  return table[model] ?? table[model.replace(/-\d{4}-\d{2}-\d{2}$/, '')];
}

export interface Cost {
  cents: number;
  /** False when the model is not in the table (the cost is then reported as 0). */
  known: boolean;
}

/** Cost in cents, to 6 decimals (a short essay costs a few hundredths of a cent). */
export function costCents(
  table: PriceTable,
  models: readonly string[],
  usage: { tokens_in: number; tokens_out: number },
): Cost {
  for (const model of models) {
    const price = priceOf(table, model);
    if (price) {
      const cents = (usage.tokens_in * price.input_per_million + usage.tokens_out * price.output_per_million) / 1e6;
      return { cents: Math.round(cents * 1e6) / 1e6, known: true };
    }
  }
  return { cents: 0, known: false };
}
