/**
 * Validation of SARIF logs against the SARIF 2.1.0 JSON schema, for tests.
 *
 * The schema comes from the npm package @microsoft/jest-sarif (a
 * devDependency, like ajv): lib/schemas/sarif-2.1.0-rtm.5.json, the 2.1.0
 * schema as published on SchemaStore. Nothing in the runtime path imports this
 * module; importing it from production code would need both packages moved to
 * "dependencies".
 *
 * That file is written as draft-04 (`id` instead of `$id`) but uses only
 * keywords whose meaning is the same in draft-07, so it is compiled as
 * draft-07 after renaming its top-level `id`.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Ajv, type AnySchemaObject, type ErrorObject } from 'ajv';

export const SARIF_SCHEMA_MODULE = '@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json';

/** The schema, adapted for ajv's draft-07 dialect. */
export function loadSarifSchema(): AnySchemaObject {
  const require = createRequire(import.meta.url);
  const raw = JSON.parse(readFileSync(require.resolve(SARIF_SCHEMA_MODULE), 'utf8')) as Record<string, unknown>;
  const { $schema: _draft, id, ...rest } = raw;
  return typeof id === 'string' ? { $id: id, ...rest } : rest;
}

// Small, strict format checks: ajv-formats is not installed, and a format that
// is silently ignored would let e.g. a relative helpUri through.
const FORMATS: Record<string, (s: string) => boolean> = {
  uri: (s) => /^[A-Za-z][A-Za-z0-9+.-]*:[^\s]*$/.test(s) && isUrlish(s),
  'uri-reference': (s) => !/[\s<>"{}|\\^`]/.test(s),
  'date-time': (s) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/i.test(s) && !Number.isNaN(Date.parse(s)),
};

function isUrlish(s: string): boolean {
  try {
    new URL(s);
    return true;
  } catch {
    return false;
  }
}

function describe(e: ErrorObject): string {
  const where = e.instancePath === '' ? '/' : e.instancePath;
  const extra = e.keyword === 'additionalProperties' ? ` (${String((e.params as { additionalProperty?: string }).additionalProperty)})` : '';
  return `${where}: ${e.message ?? e.keyword}${extra}`;
}

/** Validates a serialised SARIF log. A new validator per call: no module state. */
export function validateSarif(text: string): { valid: boolean; errors: string[] } {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    return { valid: false, errors: [`invalid JSON: ${(err as Error).message}`] };
  }
  // unicodeRegExp: false because the schema's pattern for language tags has a
  // stray ']' that is an error in a /u regular expression.
  const ajv = new Ajv({ allErrors: true, strict: false, unicodeRegExp: false });
  for (const [name, check] of Object.entries(FORMATS)) ajv.addFormat(name, check);
  const validate = ajv.compile(loadSarifSchema());
  if (validate(doc)) return { valid: true, errors: [] };
  return { valid: false, errors: (validate.errors ?? []).map(describe) };
}
