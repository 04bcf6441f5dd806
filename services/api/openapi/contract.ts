import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { Context, Middleware } from 'koa';
import { BadRequestError } from '../../platform/errors';
import { openApiDocument } from './document';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
const isObject = (v: unknown): v is { [key: string]: Json } => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * OpenAPI 3.0 schemas are draft-04 flavoured (`exclusiveMinimum: true` modifies `minimum`);
 * Ajv speaks draft-07 (numeric bounds). `nullable` Ajv knows natively.
 */
export function toDraft7(node: Json): Json {
  if (Array.isArray(node)) return node.map(toDraft7);
  if (!isObject(node)) return node;
  const out: { [key: string]: Json } = {};
  for (const [key, value] of Object.entries(node)) out[key] = toDraft7(value);
  for (const [flag, bound] of [
    ['exclusiveMinimum', 'minimum'],
    ['exclusiveMaximum', 'maximum'],
  ] as const) {
    if (typeof out[flag] === 'boolean') {
      if (out[flag] === true && typeof out[bound] === 'number') {
        out[flag] = out[bound];
        delete out[bound];
      } else {
        delete out[flag];
      }
    }
  }
  return out;
}

export const CONTRACT_ID = 'microcred-openapi';

/** One Ajv instance holding the served document's component schemas: requests and tests use the same. */
function createAjv(): Ajv {
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  const components = (openApiDocument as unknown as { components: { schemas: Json } }).components;
  ajv.addSchema({ $id: CONTRACT_ID, components: { schemas: toDraft7(components.schemas) } });
  return ajv;
}

const ajv = createAjv();
const cache = new Map<string, ValidateFunction>();

/** A validator for `#/components/schemas/<name>` of the served contract. */
export function schemaValidator(name: string): ValidateFunction {
  let fn = cache.get(name);
  if (!fn) {
    fn = ajv.getSchema(`${CONTRACT_ID}#/components/schemas/${name}`);
    if (!fn) throw new Error(`The contract has no schema ${name}`);
    cache.set(name, fn);
  }
  return fn;
}

/** A validator for any JSON schema written against the contract (e.g. a response's schema with $refs). */
export function compileAgainstContract(schema: object): ValidateFunction {
  const rewritten = JSON.parse(
    JSON.stringify(toDraft7(schema as Json)).replace(/"#\/components\//g, `"${CONTRACT_ID}#/components/`),
  ) as object;
  return ajv.compile(rewritten);
}

export function describeErrors(errors: ErrorObject[] | null | undefined): { field: string; problem: string }[] {
  return (errors ?? []).map((e) => ({
    field: e.instancePath === '' ? '(body)' : e.instancePath.slice(1).replace(/\//g, '.'),
    problem:
      e.keyword === 'additionalProperties'
        ? `unknown field "${(e.params as { additionalProperty: string }).additionalProperty}"`
        : e.keyword === 'required'
          ? `missing required field "${(e.params as { missingProperty: string }).missingProperty}"`
          : (e.message ?? 'is invalid'),
  }));
}

function invalidBody(validate: ValidateFunction): BadRequestError {
  const problems = describeErrors(validate.errors);
  return new BadRequestError(
    `Invalid request body: ${problems.map((p) => `${p.field} ${p.problem}`).join('; ')}`,
    { problems },
    'INVALID_REQUEST',
  );
}

/** Refuses a request body that does not match the contract, with a 400 naming each problem. */
export function validateBody(schemaName: string): Middleware {
  const validate = schemaValidator(schemaName);
  return async (ctx, next) => {
    const body = (ctx.request as { body?: unknown }).body;
    if (!validate(body)) throw invalidBody(validate);
    await next();
  };
}

/**
 * A typed reader of a request body, for a schema declared beside its routes with its type
 * derived from it (`type T = FromSchema<typeof S>`, json-schema-to-ts):
 * `requestBody<T>('S', S)` validates the body against the served contract's component `S`
 * (400 naming each problem) and returns it as `T`. The component must be that very schema
 * object (checked when the route is built), so the type and the contract cannot drift apart.
 */
export function requestBody<T>(name: string, source: object): (ctx: Context) => T {
  const served = (openApiDocument as unknown as { components: { schemas: Record<string, unknown> } }).components
    .schemas[name];
  if (served !== source) throw new Error(`The contract's schema ${name} is not the one given for its body type`);
  const validate = schemaValidator(name) as ValidateFunction<T>;
  return (ctx) => {
    const body = (ctx.request as { body?: unknown }).body;
    if (!validate(body)) throw invalidBody(validate);
    return body;
  };
}
