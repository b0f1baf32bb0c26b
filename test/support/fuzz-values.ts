/**
 * fast-check arbitraries for hostile API input, derived from the JSON Schemas of
 * docs/openapi.yaml: values that are almost right (the schema's own types and enums), plainly
 * wrong (another type), and text meant to break things (lone surrogates, NUL, RTL and
 * combining marks, huge strings, deep nesting).
 */
import fc from 'fast-check';

export type JsonSchema = {
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  format?: string;
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  additionalProperties?: JsonSchema | boolean;
  required?: string[];
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
};

/** Ids that exist in the server under test: `*_id` fields draw from them half the time. */
const knownIds: string[] = [];
export function useKnownIds(ids: readonly string[]): void {
  knownIds.splice(0, knownIds.length, ...ids);
}

/** Text that has broken servers: stored, logged, serialised or compared. */
export const hostileText = fc.oneof(
  fc.constantFrom(
    '',
    ' ',
    '\u0000',
    'a\u0000b',
    '\ud800',
    'x\udc00',
    '\udc00\ud800',
    '😀',
    '\u202eevil\u202c', // right-to-left override
    'e\u0301\u0301\u0301', // combining marks
    '\r\nX-Injected: 1',
    '../../etc/passwd',
    "' OR 1=1 --",
    '%00',
    '%ED%A0%80',
    '{"__proto__":{"polluted":true}}',
    '__proto__',
    'constructor',
    '9'.repeat(400),
    'a'.repeat(70_000),
  ),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ maxLength: 20 }),
);

/** Hostile text short enough for a request line (uWS drops a request head over ~4 KB unanswered). */
export const hostileUrlText = hostileText.filter((s) => s.length < 1000);

const hostileScalar = fc.oneof(hostileText, fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.constantFrom(-1, 0, 2 ** 53, -(2 ** 63), 1e308));

/** JSON nested `depth` levels deep (the edge refuses more than 32). */
export const deepJson = fc.integer({ min: 30, max: 2_000 }).map((depth) => {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = i % 2 ? [value] : { a: value };
  return value;
});

/** What some field names mean where the schema says only "string" (refinements zod cannot export). */
const hints: Record<string, fc.Arbitrary<string>> = {
  page: fc.integer({ min: 1, max: 3 }).map(String),
  per_page: fc.integer({ min: 1, max: 100 }).map(String),
  role: fc.constantFrom('viewer', 'operator'),
  email: fc.constant('fuzz@example.test'),
  common_name: fc.domain(),
  sans: fc.domain(),
  reason: fc.constantFrom('superseded', 'keyCompromise', 'unspecified'),
};

/** A string the schema accepts, as far as its pattern, format, lengths and field name say. */
function validString(schema: JsonSchema, name: string): fc.Arbitrary<string> {
  const minLength = schema.minLength ?? 0;
  const maxLength = Math.min(schema.maxLength ?? 30, 64);
  if (hints[name]) return hints[name];
  if (/_ids?$/.test(name) && knownIds.length) return fc.constantFrom(...knownIds);
  switch (schema.format) {
    case 'date-time':
      return fc.date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }).map((d) => d.toISOString());
    case 'email':
      return fc.emailAddress();
    case 'uri':
    case 'url':
      return fc.webUrl();
    case 'ipv4':
      return fc.ipV4();
    case 'ipv6':
      return fc.ipV6();
  }
  if (schema.pattern) {
    try {
      // Only the schema's own bounds: the pattern fixes the length (a SHA-256 is 64 characters).
      return fc.stringMatching(new RegExp(schema.pattern)).filter((v) => v.length >= minLength && v.length <= (schema.maxLength ?? Infinity));
    } catch {
      // a pattern fast-check cannot generate from: fall through
    }
  }
  return fc.string({ minLength, maxLength: Math.max(minLength, maxLength) });
}

/**
 * Values for `schema`. `valid`: what the schema accepts (to get past validation into the
 * handlers and the database); otherwise mostly that, with wrong types and hostile text mixed in
 * at every level.
 */
export function arbitraryFor(schema: JsonSchema | undefined, depth = 0, name = '', valid = false): fc.Arbitrary<unknown> {
  if (!schema || depth > 4) return valid ? fc.constant('x') : fc.jsonValue({ maxDepth: 2 });
  const wrong = depth > 2 ? hostileScalar : fc.oneof(hostileScalar, fc.jsonValue({ maxDepth: 2 }));
  const choices: Array<fc.Arbitrary<unknown>> = [];
  if (schema.enum) choices.push(fc.constantFrom(...schema.enum));
  if (schema.const !== undefined) choices.push(fc.constant(schema.const));
  if (valid && choices.length > 0) return fc.oneof(...choices);
  for (const alternative of [...(schema.anyOf ?? []), ...(schema.oneOf ?? [])]) choices.push(arbitraryFor(alternative, depth + 1, name, valid));
  const types = Array.isArray(schema.type) ? schema.type : schema.type ? [schema.type] : [];
  for (const type of types) {
    switch (type) {
      case 'string':
        choices.push(valid ? validString(schema, name) : fc.oneof({ arbitrary: validString(schema, name), weight: 4 }, { arbitrary: hostileText, weight: 1 }));
        break;
      case 'integer':
      case 'number': {
        const min = schema.minimum ?? -5;
        const max = Math.max(min, schema.maximum ?? 1000);
        const inRange = fc.integer({ min: Math.max(min, -1e9), max: Math.min(max, 1e9) });
        choices.push(valid ? inRange : fc.oneof({ arbitrary: inRange, weight: 4 }, { arbitrary: fc.oneof(fc.integer(), fc.double()), weight: 1 }));
        break;
      }
      case 'boolean':
        choices.push(fc.boolean());
        break;
      case 'array':
        choices.push(
          fc.array(arbitraryFor(schema.items, depth + 1, name, valid), {
            minLength: Math.min(schema.minItems ?? 0, 4),
            maxLength: Math.min(schema.maxItems ?? 4, 4),
          }),
        );
        break;
      case 'object':
        choices.push(objectFor(schema, depth, valid));
        break;
      case 'null':
        choices.push(fc.constant(null));
        break;
    }
  }
  if (choices.length === 0) return valid ? fc.constant(null) : wrong;
  if (valid) return fc.oneof(...choices);
  return fc.oneof({ arbitrary: fc.oneof(...choices), weight: 4 }, { arbitrary: wrong, weight: 1 });
}

function objectFor(schema: JsonSchema, depth: number, valid: boolean): fc.Arbitrary<Record<string, unknown>> {
  const properties = schema.properties ?? {};
  const entries = Object.fromEntries(Object.entries(properties).map(([name, inner]) => [name, arbitraryFor(inner, depth + 1, name, valid)]));
  const required = (schema.required ?? []).filter((k) => k in properties);
  // Required fields present (to reach the handler) most of the time; any subset sometimes.
  const known = valid
    ? fc.record(entries, { requiredKeys: required })
    : fc.oneof({ arbitrary: fc.record(entries, { requiredKeys: required }), weight: 3 }, { arbitrary: fc.record(entries, { requiredKeys: [] }), weight: 1 });
  if (valid) return known;
  const extra = fc.dictionary(
    hostileText.filter((k) => k.length < 50),
    hostileScalar,
    { maxKeys: 2 },
  );
  return fc.oneof({ arbitrary: known, weight: 5 }, { arbitrary: fc.tuple(known, extra).map(([a, b]) => ({ ...b, ...a })), weight: 1 });
}

/** A request body: JSON from the schema, or hostile bytes and shapes. */
export function bodyFor(schema: JsonSchema | undefined): fc.Arbitrary<string | Uint8Array<ArrayBuffer>> {
  return fc.oneof(
    { arbitrary: arbitraryFor(schema, 0, '', true).map((v) => JSON.stringify(v) ?? 'null'), weight: 6 },
    { arbitrary: arbitraryFor(schema).map((v) => JSON.stringify(v) ?? 'null'), weight: 6 },
    { arbitrary: deepJson.map((v) => JSON.stringify(v)), weight: 1 },
    { arbitrary: fc.uint8Array({ maxLength: 64 }).map((b) => new Uint8Array(b)), weight: 1 },
    { arbitrary: fc.constantFrom('', '{', '{"a":', '[1,2', 'null', '"\\ud800"', '{"a":"\\u0000"}', '{"a":1,"a":2}'), weight: 1 },
  );
}
