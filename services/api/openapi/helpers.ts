/**
 * Building blocks of the OpenAPI document, shared by `document.ts` and the contract fragments
 * that live beside their routes (e.g. `assessments/essayContract.ts`). Plain data, no imports,
 * so a fragment can use them without an import cycle through the document.
 */

export const JSON_MEDIA = 'application/json';

export const schema = (name: string) => ({ $ref: `#/components/schemas/${name}` });
export const response = (name: string) => ({ $ref: `#/components/responses/${name}` });
export const parameter = (name: string) => ({ $ref: `#/components/parameters/${name}` });

/** A JSON request body referring to a component schema. */
export const jsonBody = (name: string, description?: string) => ({
  required: true,
  ...(description ? { description } : {}),
  content: { [JSON_MEDIA]: { schema: schema(name) } },
});

/** A JSON response whose body is the given schema object. */
export const jsonResponse = (description: string, body: Record<string, unknown>) => ({
  description,
  content: { [JSON_MEDIA]: { schema: body } },
});

/** A 4xx/5xx response with its own description; the body is always `ErrorResponse`. */
export const errorResponse = (description: string) => jsonResponse(description, schema('ErrorResponse'));

/** The answers every authenticated operation can give, whatever it does (503: a dependency is down). */
export const authenticatedErrors = {
  '401': response('Unauthorized'),
  '429': response('TooManyRequests'),
  '500': response('InternalError'),
  '503': response('ServiceUnavailable'),
};

export const uuid = { type: 'string', format: 'uuid' } as const;
export const dateTime = { type: 'string', format: 'date-time' } as const;
export const openObject = { type: 'object', additionalProperties: true } as const;
export const nullableNumber = { type: 'number', nullable: true } as const;
export const nullableInteger = { type: 'integer', nullable: true } as const;
export const nullableString = { type: 'string', nullable: true } as const;
export const nullableDateTime = { ...dateTime, nullable: true } as const;
export const count = { type: 'integer', minimum: 0 } as const;
