import type { Schema } from 'avsc';
import { Type, types } from 'avsc';
import { parseInstant } from '../domain/shared/time';

/**
 * avsc logical types for microcred's schemas. Pass `logicalTypes` (or `forSchemaOptions`) to
 * every `Type.forSchema` — the schema-registry client included — so that:
 *
 * - `{"type": "string", "logicalType": "json"}` carries a free-form JSON value (answers,
 *   rubrics, metadata, profiles…) as its JSON text on the wire and as the parsed value in code.
 *   JSON `null` is a value of this type (`"null"` on the wire), so a nullable JSON field is a
 *   plain json field with `"default": "null"` — never `["null", json]`, which avsc cannot
 *   resolve (null would fit both branches);
 * - `{"type": "long", "logicalType": "timestamp-millis"}` carries an instant as epoch
 *   milliseconds on the wire and as a canonical ISO-8601 string (`2025-01-31T09:00:00.000Z`)
 *   in code. Only ISO-8601 strings with a zone (or `Date`s) encode.
 */

export class JsonType extends types.LogicalType {
  protected override _fromValue(value: string): unknown {
    return JSON.parse(value);
  }

  protected override _toValue(value: unknown): string | undefined {
    // JSON.stringify gives undefined for undefined and functions: those are not JSON values.
    return JSON.stringify(value);
  }

  protected override _resolve(type: Type): ((value: string) => unknown) | undefined {
    if (Type.isType(type, 'string', 'logical:json')) return (value: string) => this._fromValue(value);
    return undefined;
  }
}

export class TimestampMillisType extends types.LogicalType {
  protected override _fromValue(value: number): string {
    return new Date(value).toISOString();
  }

  protected override _toValue(value: unknown): number | undefined {
    if (value instanceof Date) return Number.isFinite(value.getTime()) ? value.getTime() : undefined;
    return parseInstant(value);
  }

  protected override _resolve(type: Type): ((value: number) => string) | undefined {
    if (Type.isType(type, 'long', 'int', 'logical:timestamp-millis')) return (value: number) => this._fromValue(value);
    return undefined;
  }
}

export const logicalTypes = {
  json: JsonType,
  'timestamp-millis': TimestampMillisType,
};

export const forSchemaOptions = { logicalTypes };

/** An avsc Type for a schema, with microcred's logical types. */
export function avroType(schema: Schema | object): Type {
  return Type.forSchema(schema as Schema, { logicalTypes });
}
