import http from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { routeTableOf, type RouteEntry } from '../../api/route';
import { USER_ROLES, type UserRole } from '../../db/schema';
import { createUsers } from '../support/app';
import { createContact, createCustomer, createDevice, createProduct } from '../support/fixtures';
import { startProcessHarness, type ProcessHarness } from '../support/process-harness';

/**
 * Property-based fuzzing of every operation of the OpenAPI document (not a hand list): per
 * operation, FUZZ_CASES cases of valid-ish and invalid path parameters, query strings and JSON bodies
 * drawn from the operation's own schemas, each sent as a random role or without credentials, to the
 * real app (PostgreSQL, Temporal test server, a worker). Every answer must be below 500, have a status
 * the operation documents (or 401/403/404/405/429, which any may give), and an error body in the error
 * model; a 400 validation_failed names each field. Undeclared and repeated query parameters are 400s.
 * Seeded: FUZZ_SEED=<n> replays a run; the seed is printed on failure.
 */
const CASES_PER_OPERATION = Number(process.env.FUZZ_CASES ?? 12);
const SEED = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const CONCURRENCY = 6;

type Schema = Record<string, unknown> & {
  $ref?: string;
  type?: string | string[];
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
  enum?: unknown[];
  const?: unknown;
  format?: string;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minItems?: number;
  maxItems?: number;
};

interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header';
  required?: boolean;
  schema?: Schema;
}

interface Operation {
  method: string;
  path: string;
  route: RouteEntry;
  parameters: Parameter[];
  jsonBody?: Schema;
  multipart: boolean;
  statuses: Set<number>;
}

type Caller = UserRole | 'none';

interface FuzzCase {
  caller: Caller;
  url: string;
  body?: string;
  /** What the case deliberately got wrong in the query string (the answer must be a 400 naming it, once past the role check). */
  queryFault?: { kind: 'unknown' | 'repeated'; name: string };
}

/** Statuses any operation may answer besides those it documents. */
const GENERIC_STATUSES = new Set([401, 403, 404, 405, 429]);
/** 400s that are about the request as a whole rather than a field. */
const WHOLE_REQUEST_400 = new Set(['malformed_json', 'malformed_path', 'malformed_request']);

const junkString = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom('', ' ', '\u0000', '0x10', '1e3', '-1', '99999999999999999999', 'null', '../../etc/passwd', '%', '%E0%A4%A', "'; drop table users; --", '<script>alert(1)</script>', '2026-13-45', '2026-01-01T00:00:00+16:00'),
);
const junkJson: fc.Arbitrary<unknown> = fc.oneof(fc.constant(null), fc.boolean(), fc.integer(), fc.double(), junkString, fc.constant([]), fc.constant({}), fc.constant(2 ** 53 + 2), fc.constant(-2147483649));

describe('API fuzzing over the OpenAPI document', () => {
  let h: ProcessHarness;
  let server: http.Server;
  let baseUrl: string;
  let operations: Operation[];
  let components: Record<string, Schema>;
  const tokens = {} as Record<UserRole, string>;
  /** Ids of rows that exist, so that some cases get past a 404 into the handlers. */
  const knownIds: string[] = [];

  beforeAll(async () => {
    h = await startProcessHarness();
    await h.startWorker();
    Object.assign(tokens, h.tokens, await createUsers(h.database.db, USER_ROLES.filter((role) => !(role in h.tokens))));
    const customer = await createCustomer(h.database.db);
    const product = await createProduct(h.database.db);
    const contact = await createContact(h.database.db, customer.id);
    const device = await createDevice(h.database.db, { customerId: customer.id, productId: product.id, serial: 'FUZZ-1' });
    knownIds.push(customer.id, product.id, contact.id, device.id);
    server = http.createServer(h.app).listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const document = (await (await fetch(`${baseUrl}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { parameters?: Parameter[]; requestBody?: { content: Record<string, { schema: Schema }> }; responses: Record<string, unknown> }>>;
      components?: { schemas?: Record<string, Schema> };
    };
    components = document.components?.schemas ?? {};
    const table = routeTableOf(h.app);
    operations = Object.entries(document.paths).flatMap(([path, byMethod]) =>
      Object.entries(byMethod).map(([method, operation]) => {
        const expressPath = path.replace(/\{([^}]+)\}/g, ':$1');
        const route = table.find((entry) => entry.method === method && entry.path === expressPath);
        if (!route) throw new Error(`${method} ${path} is in the document but not in the route table`);
        return {
          method,
          path,
          route,
          parameters: operation.parameters ?? [],
          jsonBody: operation.requestBody?.content['application/json']?.schema,
          multipart: Boolean(operation.requestBody?.content['multipart/form-data']),
          statuses: new Set(Object.keys(operation.responses).map(Number)),
        };
      }),
    );
  }, 120_000);
  afterAll(async () => {
    await new Promise<void>((resolve) => server?.close(() => resolve()));
    await h?.close();
  });

  function resolve(schema: Schema): Schema {
    let current = schema;
    for (let depth = 0; current.$ref && depth < 10; depth += 1) current = components[current.$ref.replace('#/components/schemas/', '')] ?? {};
    return current;
  }

  /** Values the schema accepts (mostly), from its type, format, bounds, enum and pattern. */
  function valid(input: Schema, depth = 0): fc.Arbitrary<unknown> {
    const schema = resolve(input);
    if (schema.const !== undefined) return fc.constant(schema.const);
    if (schema.enum) return fc.constantFrom(...schema.enum);
    const alternatives = schema.anyOf ?? schema.oneOf;
    if (alternatives && alternatives.length > 0) return fc.oneof(...alternatives.map((alternative) => valid(alternative, depth + 1)));
    if (schema.allOf && schema.allOf.length > 0) return valid(schema.allOf[schema.allOf.length - 1]!, depth + 1);
    const types = Array.isArray(schema.type) ? schema.type : schema.type ? [schema.type] : [];
    if (types.length > 1) return fc.oneof(...types.map((type) => valid({ ...schema, type }, depth + 1)));
    switch (types[0]) {
      case 'null':
        return fc.constant(null);
      case 'boolean':
        return fc.boolean();
      case 'integer': {
        const min = schema.minimum ?? (schema.exclusiveMinimum !== undefined ? schema.exclusiveMinimum + 1 : -1_000);
        const max = schema.maximum ?? (schema.exclusiveMaximum !== undefined ? schema.exclusiveMaximum - 1 : Math.max(min, 0) + 1_000);
        return fc.oneof(fc.integer({ min: Math.max(min, Number.MIN_SAFE_INTEGER), max: Math.min(max, Number.MAX_SAFE_INTEGER) }), fc.constantFrom(min, max));
      }
      case 'number':
        return fc.double({ min: schema.minimum ?? -1e6, max: schema.maximum ?? 1e6, noNaN: true, noDefaultInfinity: true });
      case 'string':
        return validString(schema);
      case 'array': {
        if (depth > 4) return fc.constant([]);
        return fc.array(valid(schema.items ?? {}, depth + 1), { minLength: schema.minItems ?? 0, maxLength: Math.min(schema.maxItems ?? 3, 3) });
      }
      case 'object': {
        if (depth > 4 || !schema.properties) return fc.constant({});
        const required = new Set(schema.required ?? []);
        const entries = Object.entries(schema.properties);
        return fc.record(Object.fromEntries(entries.map(([name, property]) => [name, valid(property, depth + 1)])), {
          requiredKeys: entries.map(([name]) => name).filter((name) => required.has(name)),
        });
      }
      default:
        return junkJson;
    }
  }

  function validString(schema: Schema): fc.Arbitrary<string> {
    const minLength = schema.minLength ?? 0;
    const maxLength = Math.min(schema.maxLength ?? 40, 80);
    switch (schema.format) {
      case 'uuid':
        return knownIds.length > 0 ? fc.oneof(fc.uuid(), fc.constantFrom(...knownIds)) : fc.uuid();
      case 'date-time':
        return fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2099-12-31T23:59:59Z'), noInvalidDate: true }).map((date) => date.toISOString());
      case 'date':
        return fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2099-12-31T00:00:00Z'), noInvalidDate: true }).map((date) => date.toISOString().slice(0, 10));
      case 'email':
        return fc.emailAddress().filter((email) => email.length <= maxLength || schema.maxLength === undefined);
      default:
        break;
    }
    if (schema.pattern) {
      try {
        return fc.stringMatching(new RegExp(schema.pattern)).filter((text) => text.length >= minLength && text.length <= (schema.maxLength ?? Infinity));
      } catch {
        // A pattern fast-check cannot generate from: plain strings below.
      }
    }
    return fc.string({ minLength, maxLength: Math.max(minLength, maxLength) });
  }

  /** Valid-ish or deliberately wrong: the schema's own values, or junk of any type. */
  const either = (schema: Schema | undefined) => (schema ? fc.oneof({ weight: 3, arbitrary: valid(schema) }, { weight: 1, arbitrary: junkJson }) : junkJson);

  /** A body mutated away from its schema: a required field dropped, a field of the wrong type, an unknown field. */
  function mutatedBody(schema: Schema): fc.Arbitrary<unknown> {
    const resolved = resolve(schema);
    return valid(resolved).chain((body) => {
      if (typeof body !== 'object' || body === null || Array.isArray(body)) return fc.constant(body);
      const keys = Object.keys(resolved.properties ?? {});
      if (keys.length === 0) return fc.constant({ ...body, unexpected: 1 });
      return fc.tuple(fc.constantFrom(...keys), junkJson, fc.boolean()).map(([key, junk, drop]) => {
        const copy: Record<string, unknown> = { ...(body as Record<string, unknown>) };
        if (drop) delete copy[key];
        else copy[key] = junk;
        return copy;
      });
    });
  }

  const asText = (value: unknown) => (typeof value === 'string' ? value : JSON.stringify(value) ?? 'null');

  function casesOf(operation: Operation): fc.Arbitrary<FuzzCase> {
    const pathParameters = operation.parameters.filter((parameter) => parameter.in === 'path');
    const queryParameters = operation.parameters.filter((parameter) => parameter.in === 'query');
    const pathValues = fc.tuple(...pathParameters.map((parameter) => either(parameter.schema)));
    const queryValues = fc.tuple(...queryParameters.map((parameter) => fc.option(either(parameter.schema), { nil: undefined, freq: 2 })));
    const body: fc.Arbitrary<string | undefined> = operation.jsonBody
      ? fc.oneof({ weight: 3, arbitrary: valid(operation.jsonBody).map((value) => JSON.stringify(value)) }, { weight: 3, arbitrary: mutatedBody(operation.jsonBody).map((value) => JSON.stringify(value)) }, { weight: 1, arbitrary: junkJson.map((value) => JSON.stringify(value)) }, { weight: 1, arbitrary: fc.constantFrom('{', '', '{"a":', '[1,2') })
      : fc.constant(undefined);
    const scalarQuery = queryParameters.filter((parameter) => resolve(parameter.schema ?? {}).type !== 'array');
    const queryFault: fc.Arbitrary<FuzzCase['queryFault']> = fc.oneof(
      { weight: 8, arbitrary: fc.constant(undefined) },
      { weight: 1, arbitrary: fc.constantFrom('colour', 'limit[]', 'sort', '__proto__').map((name) => ({ kind: 'unknown' as const, name })) },
      ...(scalarQuery.length > 0 ? [{ weight: 1, arbitrary: fc.constantFrom(...scalarQuery.map((parameter) => parameter.name)).map((name) => ({ kind: 'repeated' as const, name })) }] : []),
    );
    // Mostly callers the route lets in (the role matrix covers the others): the inputs are the subject here.
    const access = operation.route.access;
    const admitted = access === 'public' || access.roles.length === 0 ? [...USER_ROLES] : [...access.roles];
    const caller = fc.oneof({ weight: 6, arbitrary: fc.constantFrom<Caller>(...admitted, ...(access === 'public' ? ['none' as const] : [])) }, { weight: 1, arbitrary: fc.constantFrom<Caller>(...USER_ROLES, 'none') });
    return fc.record({ caller, pathValues, queryValues, body, queryFault }).map(({ caller: who, pathValues: paths, queryValues: queries, body: text, queryFault: fault }) => {
      let url = operation.path;
      pathParameters.forEach((parameter, index) => {
        url = url.replace(`{${parameter.name}}`, encodeURIComponent(asText(paths[index])) || 'x');
      });
      const query = new URLSearchParams();
      queryParameters.forEach((parameter, index) => {
        const value = queries[index];
        if (value !== undefined) query.append(parameter.name, asText(value));
      });
      if (fault?.kind === 'unknown') query.append(fault.name, '1');
      if (fault?.kind === 'repeated') {
        const parameter = queryParameters.find((candidate) => candidate.name === fault.name)!;
        const value = asText(fc.sample(valid(parameter.schema ?? {}), { seed: SEED, numRuns: 1 })[0]);
        query.delete(fault.name);
        query.append(fault.name, value);
        query.append(fault.name, value);
      }
      const search = query.toString();
      return { caller: who, url: search ? `${url}?${search}` : url, body: text, queryFault: fault };
    });
  }

  test(`every operation x ${CASES_PER_OPERATION} generated cases: no 5xx, documented statuses, the error model, fields named`, async () => {
    const started = Date.now();
    const failures: string[] = [];
    const statusCounts = new Map<number, number>();
    const work = operations.flatMap((operation, index) => fc.sample(casesOf(operation), { seed: SEED + index, numRuns: CASES_PER_OPERATION }).map((fuzzCase) => ({ operation, fuzzCase })));
    let next = 0;
    let clientNumber = 0;
    const worker = async () => {
      while (next < work.length) {
        const { operation, fuzzCase } = work[next++]!;
        const headers: Record<string, string> = {
          Accept: 'application/json',
          // A client address per case: the link rate limit (per address) is its own test's subject, not this one's.
          'X-Forwarded-For': `10.${(clientNumber >> 16) & 255}.${(clientNumber >> 8) & 255}.${clientNumber++ & 255}`,
        };
        if (fuzzCase.caller !== 'none') headers.Authorization = `Bearer ${tokens[fuzzCase.caller]}`;
        if (fuzzCase.body !== undefined) headers['Content-Type'] = 'application/json';
        const label = `${operation.method.toUpperCase()} ${fuzzCase.url} as ${fuzzCase.caller}${fuzzCase.body !== undefined ? ` body ${fuzzCase.body.slice(0, 300)}` : ''}`;
        let status: number;
        let text: string;
        try {
          const response = await fetch(`${baseUrl}${fuzzCase.url}`, { method: operation.method.toUpperCase(), headers, body: fuzzCase.body, signal: AbortSignal.timeout(15_000) });
          status = response.status;
          text = await response.text();
        } catch (error) {
          failures.push(`${label}: no answer (${String(error)})`);
          continue;
        }
        statusCounts.set(status, (statusCounts.get(status) ?? 0) + 1);
        const problems = checkAnswer(operation, fuzzCase, status, text);
        if (problems.length > 0) failures.push(`${label} -> ${status} ${text.slice(0, 300)}: ${problems.join('; ')}`);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    console.log(
      `fuzz: ${work.length} cases over ${operations.length} operations in ${seconds} s (seed ${SEED}; FUZZ_SEED=${SEED} replays it); statuses ${JSON.stringify(Object.fromEntries([...statusCounts].sort((a, b) => a[0] - b[0])))}`,
    );
    if (failures.length > 0) throw new Error(`fuzz seed ${SEED} (replay with FUZZ_SEED=${SEED}): ${failures.length} failing cases, first 20:\n${failures.slice(0, 20).join('\n')}`);
    // About 30 ms a case on this 2-core machine under load; FUZZ_CASES=200 runs long on purpose.
  }, Math.max(300_000, CASES_PER_OPERATION * 10_000));

  test('the cases fuzzing found stay fixed: a deadline past the calendar\'s end is a 400 naming the start, not a 500', async () => {
    const headers = { Authorization: `Bearer ${tokens.manager}`, 'Content-Type': 'application/json' };
    const due = await fetch(`${baseUrl}/sla/due?start=${encodeURIComponent('2099-12-31T23:59:58.990Z')}&class=NBD`, { headers });
    expect(due.status).toBe(400);
    expect(((await due.json()) as { error: { details: unknown } }).error.details).toEqual([expect.objectContaining({ in: 'query', field: 'start' })]);
    for (const slaClass of ['5x8', 'NBD', '30CD']) {
      const lastDay = await fetch(`${baseUrl}/sla/due?start=${encodeURIComponent('2099-12-31T10:00:00+08:00')}&class=${slaClass}`, { headers });
      expect([200, 400]).toContain(lastDay.status);
    }
    const escalation = await fetch(`${baseUrl}/incidents/next-escalation`, { method: 'POST', headers, body: JSON.stringify({ ladderLevel: 1, levelEnteredAt: '2099-12-31T23:59:00+08:00' }) });
    expect(escalation.status).toBeLessThan(500);
  });

  function checkAnswer(operation: Operation, fuzzCase: FuzzCase, status: number, text: string): string[] {
    const problems: string[] = [];
    if (status >= 500) problems.push('a server error');
    if (!operation.statuses.has(status) && !GENERIC_STATUSES.has(status)) problems.push(`status ${status} is not documented for this operation (${[...operation.statuses].join(', ')})`);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    if (status >= 400) {
      const error = (body as { error?: Record<string, unknown> } | undefined)?.error;
      const keys = error ? Object.keys(error).sort().join(',') : '';
      if (!error || keys !== 'code,details,message' || typeof error.code !== 'string' || typeof error.message !== 'string' || Object.keys(body as object).length !== 1) {
        problems.push('the error body is not { error: { code, message, details } }');
      } else if (status === 400 && !WHOLE_REQUEST_400.has(error.code)) {
        const details = error.details as { in?: string; field?: string }[] | undefined;
        if (error.code !== 'validation_failed' || !Array.isArray(details) || details.length === 0 || details.some((detail) => typeof detail.field !== 'string' || detail.field === '' || typeof detail.in !== 'string')) {
          problems.push('a 400 that names no field');
        }
      }
      // A bad query string is refused before the handler runs: a validation 400 names it among the
      // request's problems; only what is refused before validation (token, role, body framing) may hide it.
      if (fuzzCase.queryFault) {
        const details = error?.details as { in?: string; field?: string }[] | undefined;
        const named = Array.isArray(details) && details.some((detail) => detail.in === 'query' && detail.field === fuzzCase.queryFault!.name);
        if ((error?.code === 'validation_failed' && !named) || error?.code === 'not_found') {
          problems.push(`the ${fuzzCase.queryFault.kind} query parameter ${fuzzCase.queryFault.name} was not refused by name`);
        }
      }
    } else if (fuzzCase.queryFault) {
      problems.push(`the ${fuzzCase.queryFault.kind} query parameter ${fuzzCase.queryFault.name} was accepted`);
    }
    return problems;
  }
});
