import { z } from 'zod';
import type { ConsoleText } from './i18n';

/*
 * A console form is drawn from the JSON Schema of the API route it submits to, so every field the
 * API takes is there, with the API's own limits, and the API's validation answer names the field a
 * message is shown beside. Nothing here decides what is valid: the API does.
 */

type JsonSchema = {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  enum?: unknown[];
  const?: unknown;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  $ref?: string;
  $defs?: Record<string, JsonSchema>;
  format?: string;
  description?: string;
  minimum?: number;
  maximum?: number;
  maxLength?: number;
  additionalProperties?: JsonSchema | boolean;
  default?: unknown;
};

export type FieldKind = 'text' | 'textarea' | 'integer' | 'number' | 'datetime' | 'date' | 'email' | 'select' | 'checkbox' | 'list' | 'json' | 'file';

export interface FormField {
  kind: FieldKind | 'group';
  /** Dotted path of the value in the JSON body (`content.rootCause`), or `_path.x` for a path parameter. */
  name: string;
  label: string;
  required: boolean;
  hint?: string;
  value?: string;
  checked?: boolean;
  options?: { value: string; label: string }[];
  min?: number;
  max?: number;
  maxLength?: number;
  nullable?: boolean;
  multiple?: boolean;
  fields?: FormField[];
}

const LONG_TEXT = 200;
const MAX_DEPTH = 3;

function resolve(schema: JsonSchema, root: JsonSchema): JsonSchema {
  let current = schema;
  for (let hops = 0; current.$ref && hops < 10; hops++) {
    const name = current.$ref.replace(/^#\/\$defs\//, '');
    current = { ...root.$defs?.[name], description: current.description ?? root.$defs?.[name]?.description };
  }
  if (current.allOf?.length === 1) return resolve({ ...current.allOf[0], description: current.description ?? current.allOf[0]!.description }, root);
  return current;
}

/** The schema without its `null` alternative, and whether null was allowed. */
function withoutNull(schema: JsonSchema, root: JsonSchema): { schema: JsonSchema; nullable: boolean } {
  const resolved = resolve(schema, root);
  const alternatives = resolved.anyOf ?? resolved.oneOf;
  if (alternatives) {
    const nonNull = alternatives.filter((alternative) => resolve(alternative, root).type !== 'null');
    if (nonNull.length === 1) return { schema: { ...resolve(nonNull[0]!, root), description: resolved.description ?? nonNull[0]!.description }, nullable: nonNull.length < alternatives.length };
  }
  if (Array.isArray(resolved.type)) {
    const types = resolved.type.filter((type) => type !== 'null');
    return { schema: { ...resolved, type: types.length === 1 ? types[0] : types }, nullable: types.length < resolved.type.length };
  }
  return { schema: resolved, nullable: false };
}

function stringValue(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value, null, 2);
}

/** `2026-12-02T02:00:00.000Z` -> `2026-12-02T10:00` (China time, for a datetime-local input). */
function chinaLocalInput(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const time = Date.parse(value);
  if (Number.isNaN(time)) return undefined;
  return new Date(time + 8 * 3_600_000).toISOString().slice(0, 16);
}

function fieldFrom(name: string, key: string, raw: JsonSchema, root: JsonSchema, required: boolean, prefill: unknown, text: ConsoleText, depth: number): FormField {
  const { schema, nullable } = withoutNull(raw, root);
  const base = { name, label: text.field(key), required, hint: schema.description, nullable };
  const enumValues = schema.enum ?? (schema.const !== undefined ? [schema.const] : undefined);
  if (enumValues) {
    return { ...base, kind: 'select', value: stringValue(prefill ?? schema.default), options: enumValues.map((value) => ({ value: String(value), label: text.value(String(value)) })) };
  }
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (alternatives && alternatives.every((alternative) => resolve(alternative, root).enum || resolve(alternative, root).const !== undefined)) {
    const values = alternatives.flatMap((alternative) => {
      const resolved = resolve(alternative, root);
      return resolved.enum ?? [resolved.const];
    });
    return { ...base, kind: 'select', value: stringValue(prefill), options: values.map((value) => ({ value: String(value), label: text.value(String(value)) })) };
  }
  switch (schema.type) {
    case 'boolean':
      return { ...base, kind: 'checkbox', checked: prefill === true || (prefill === undefined && schema.default === true) };
    case 'integer':
    case 'number':
      return {
        ...base,
        kind: schema.type,
        value: stringValue(prefill ?? schema.default),
        min: schema.minimum !== undefined && Math.abs(schema.minimum) < Number.MAX_SAFE_INTEGER ? schema.minimum : undefined,
        max: schema.maximum !== undefined && Math.abs(schema.maximum) < Number.MAX_SAFE_INTEGER ? schema.maximum : undefined,
      };
    case 'string':
      if (schema.format === 'date-time') return { ...base, kind: 'datetime', value: chinaLocalInput(prefill) };
      if (schema.format === 'date') return { ...base, kind: 'date', value: stringValue(prefill) };
      if (schema.format === 'email') return { ...base, kind: 'email', value: stringValue(prefill), maxLength: schema.maxLength };
      return { ...base, kind: (schema.maxLength ?? 0) > LONG_TEXT || (typeof prefill === 'string' && prefill.includes('\n')) ? 'textarea' : 'text', value: stringValue(prefill ?? schema.default), maxLength: schema.maxLength };
    case 'array': {
      const items = schema.items ? withoutNull(schema.items, root).schema : {};
      if (items.enum) {
        const chosen = Array.isArray(prefill) ? prefill.map(String) : [];
        return { ...base, kind: 'select', multiple: true, options: items.enum.map((value) => ({ value: String(value), label: text.value(String(value)) })), value: chosen.join('\n') };
      }
      if (items.type === 'string' || items.type === 'integer' || items.type === 'number') {
        return { ...base, kind: 'list', value: Array.isArray(prefill) ? prefill.map(String).join('\n') : undefined, hint: [schema.description, text.ui.onePerLine].filter(Boolean).join(' · ') };
      }
      return { ...base, kind: 'json', value: stringValue(prefill) ?? '[]', hint: [schema.description, text.ui.jsonHint(describeShape(items, root))].filter(Boolean).join(' · ') };
    }
    case 'object': {
      if (schema.properties && depth < MAX_DEPTH) {
        const record = (prefill ?? {}) as Record<string, unknown>;
        return { ...base, kind: 'group', fields: fieldsOf(schema, root, name, record, text, depth + 1) };
      }
      // An open record (e.g. a document's content): one field per key it already has, else JSON.
      if (prefill && typeof prefill === 'object' && !Array.isArray(prefill) && Object.keys(prefill).length > 0 && depth < MAX_DEPTH) {
        return {
          ...base,
          kind: 'group',
          fields: Object.entries(prefill as Record<string, unknown>).map(([entryKey, entryValue]) =>
            typeof entryValue === 'string'
              ? { kind: 'textarea', name: `${name}.${entryKey}`, label: text.field(entryKey), required: false, value: entryValue }
              : { kind: 'json', name: `${name}.${entryKey}`, label: text.field(entryKey), required: false, value: JSON.stringify(entryValue, null, 2) },
          ),
        };
      }
      return { ...base, kind: 'json', value: stringValue(prefill) ?? '{}', hint: [schema.description, text.ui.jsonHint('{…}')].filter(Boolean).join(' · ') };
    }
    default:
      return { ...base, kind: 'json', value: stringValue(prefill), hint: [schema.description, text.ui.jsonHint('…')].filter(Boolean).join(' · ') };
  }
}

function describeShape(schema: JsonSchema, root: JsonSchema): string {
  const resolved = resolve(schema, root);
  if (!resolved.properties) return '[…]';
  return `[{ ${Object.keys(resolved.properties).map((key) => `"${key}"`).join(', ')} }]`;
}

function fieldsOf(schema: JsonSchema, root: JsonSchema, prefix: string, prefill: Record<string, unknown>, text: ConsoleText, depth: number): FormField[] {
  const required = new Set(schema.required ?? []);
  return Object.entries(schema.properties ?? {}).map(([key, property]) =>
    fieldFrom(prefix ? `${prefix}.${key}` : key, key, property, root, required.has(key), prefill[key], text, depth),
  );
}

/** The fields of a body schema (a zod object), each prefilled from `prefill` where it has the key. */
export function formFieldsOf(body: z.ZodType | undefined, prefill: Record<string, unknown>, text: ConsoleText): FormField[] {
  if (!body) return [];
  let root: JsonSchema;
  try {
    root = z.toJSONSchema(body, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  } catch {
    return [{ kind: 'json', name: '_body', label: text.ui.body, required: true, value: '{}' }];
  }
  const resolved = resolve(root, root);
  if (resolved.type !== 'object' || !resolved.properties) return [{ kind: 'json', name: '_body', label: text.ui.body, required: true, value: '{}' }];
  return fieldsOf(resolved, root, '', prefill, text, 0);
}

/** A JSON Schema for a part of a form drawn from a zod schema the console knows (e.g. a document kind's content). */
export function fieldsForSchema(name: string, key: string, schema: z.ZodType, prefill: unknown, text: ConsoleText): FormField {
  const root = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  return fieldFrom(name, key, root, root, true, prefill, text, 1);
}

