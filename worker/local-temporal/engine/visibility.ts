/**
 * The subset of Temporal's visibility query language this server understands:
 * `Field = 'value'`, `!=`, `<`, `<=`, `>`, `>=`, `IN ('a', 'b')`, `BETWEEN 'a' AND 'b'`,
 * `STARTS_WITH 'prefix'`, `AND`, `OR`, parentheses; a trailing `ORDER BY ...` is ignored.
 * Fields: WorkflowId, RunId, WorkflowType, ExecutionStatus, TaskQueue, StartTime, CloseTime,
 * ExecutionTime (times compare as instants, values in RFC 3339).
 */

export type VisibilityRecord = Record<string, string | number | undefined>;

export type Predicate = (record: VisibilityRecord) => boolean;

const TIME_FIELDS = new Set(['StartTime', 'CloseTime', 'ExecutionTime']);
const KNOWN_FIELDS = new Set(['WorkflowId', 'RunId', 'WorkflowType', 'ExecutionStatus', 'TaskQueue', ...TIME_FIELDS]);

type Token = { kind: 'word'; text: string } | { kind: 'string'; text: string } | { kind: 'symbol'; text: string };

function tokenize(query: string): Token[] {
  const tokens: Token[] = [];
  let index = 0;
  while (index < query.length) {
    const char = query[index]!;
    if (/\s/.test(char)) {
      index++;
    } else if (char === "'" || char === '"') {
      const end = query.indexOf(char, index + 1);
      if (end < 0) throw new Error(`unterminated string in visibility query: ${query}`);
      tokens.push({ kind: 'string', text: query.slice(index + 1, end) });
      index = end + 1;
    } else if ('()=,'.includes(char)) {
      tokens.push({ kind: 'symbol', text: char });
      index++;
    } else if ('<>!'.includes(char)) {
      const two = query.slice(index, index + 2);
      if (two === '<=' || two === '>=' || two === '!=' || two === '<>') {
        tokens.push({ kind: 'symbol', text: two === '<>' ? '!=' : two });
        index += 2;
      } else {
        tokens.push({ kind: 'symbol', text: char });
        index++;
      }
    } else {
      const match = /^[A-Za-z0-9_.:-]+/.exec(query.slice(index));
      if (!match) throw new Error(`unexpected character "${char}" in visibility query`);
      tokens.push({ kind: 'word', text: match[0] });
      index += match[0].length;
    }
  }
  return tokens;
}

/** An unset value (e.g. CloseTime of a running workflow) matches no comparison. */
function compare(
  actual: string | number | undefined,
  expected: string | number,
  holds: (a: string | number, b: string | number) => boolean,
): boolean {
  return actual !== undefined && holds(actual, expected);
}

export function parseVisibilityQuery(query: string): Predicate {
  const withoutOrder = query.replace(/\border\s+by\b[\s\S]*$/i, '').trim();
  if (!withoutOrder) return () => true;
  const tokens = tokenize(withoutOrder);
  let position = 0;

  const peek = (): Token | undefined => tokens[position];
  const isKeyword = (token: Token | undefined, keyword: string): boolean =>
    token?.kind === 'word' && token.text.toUpperCase() === keyword;
  const expectSymbol = (text: string): void => {
    const token = tokens[position++];
    if (token?.kind !== 'symbol' || token.text !== text) throw new Error(`expected "${text}" in visibility query`);
  };
  const value = (): string => {
    const token = tokens[position++];
    if (!token || token.kind === 'symbol') throw new Error('expected a value in visibility query');
    return token.text;
  };

  const parseOr = (): Predicate => {
    let left = parseAnd();
    while (isKeyword(peek(), 'OR')) {
      position++;
      const right = parseAnd();
      const previous = left;
      left = (record) => previous(record) || right(record);
    }
    return left;
  };
  const parseAnd = (): Predicate => {
    let left = parseTerm();
    while (isKeyword(peek(), 'AND')) {
      position++;
      const right = parseTerm();
      const previous = left;
      left = (record) => previous(record) && right(record);
    }
    return left;
  };
  const parseTerm = (): Predicate => {
    const token = tokens[position++];
    if (token?.kind === 'symbol' && token.text === '(') {
      const inner = parseOr();
      expectSymbol(')');
      return inner;
    }
    if (token?.kind !== 'word') throw new Error('expected a field name in visibility query');
    const field = token.text;
    if (!KNOWN_FIELDS.has(field)) throw new Error(`unsupported visibility field "${field}"`);
    const normalize = (raw: string): string | number => {
      if (!TIME_FIELDS.has(field)) return raw;
      const ms = Date.parse(raw);
      if (Number.isNaN(ms)) throw new Error(`invalid time "${raw}" for ${field}`);
      return ms;
    };
    const operator = peek();
    if (isKeyword(operator, 'IN')) {
      position++;
      expectSymbol('(');
      const values = [normalize(value())];
      while (peek()?.kind === 'symbol' && peek()?.text === ',') {
        position++;
        values.push(normalize(value()));
      }
      expectSymbol(')');
      return (record) => values.includes(record[field] as string | number);
    }
    if (isKeyword(operator, 'BETWEEN')) {
      position++;
      const low = normalize(value());
      if (!isKeyword(tokens[position++], 'AND')) throw new Error('expected AND in BETWEEN');
      const high = normalize(value());
      return (record) => {
        const actual = record[field];
        return actual !== undefined && actual >= low && actual <= high;
      };
    }
    if (isKeyword(operator, 'STARTS_WITH')) {
      position++;
      const prefix = value();
      return (record) => String(record[field] ?? '').startsWith(prefix);
    }
    if (operator?.kind !== 'symbol') throw new Error(`expected an operator after ${field}`);
    position++;
    const expected = normalize(value());
    switch (operator.text) {
      case '=':
        return (record) => record[field] === expected;
      case '!=':
        return (record) => record[field] !== expected;
      case '<':
        return (record) => compare(record[field], expected, (a, b) => a < b);
      case '<=':
        return (record) => compare(record[field], expected, (a, b) => a <= b);
      case '>':
        return (record) => compare(record[field], expected, (a, b) => a > b);
      case '>=':
        return (record) => compare(record[field], expected, (a, b) => a >= b);
      default:
        throw new Error(`unsupported operator "${operator.text}"`);
    }
  };

  const predicate = parseOr();
  if (position < tokens.length) throw new Error(`unexpected "${tokens[position]!.text}" in visibility query`);
  return predicate;
}

export function matchesVisibilityQuery(predicate: Predicate, record: VisibilityRecord): boolean {
  return predicate(record);
}
