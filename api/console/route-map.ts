import type { UserRole } from '../../db/schema';
import type { RouteEntry } from '../route';

/*
 * The console's map of the API: which GET route a console page shows, and which other routes are
 * the actions of that page (those under its path, not under a deeper page). A role sees an action only
 * when the route would let it through; the API refuses it anyway.
 */

export interface MatchedRoute {
  entry: RouteEntry;
  params: Record<string, string>;
}

const segmentsOf = (path: string) => path.split('/').filter(Boolean);

export function matchPath(pattern: string, path: string): Record<string, string> | undefined {
  const patternSegments = segmentsOf(pattern);
  const pathSegments = segmentsOf(path);
  if (patternSegments.length !== pathSegments.length) return undefined;
  const params: Record<string, string> = {};
  for (let index = 0; index < patternSegments.length; index++) {
    const expected = patternSegments[index]!;
    const actual = pathSegments[index]!;
    if (expected.startsWith(':')) {
      try {
        params[expected.slice(1)] = decodeURIComponent(actual);
      } catch {
        return undefined;
      }
    } else if (expected !== actual) return undefined;
  }
  return params;
}

/** `/documents/:documentId/decisions` with `{ documentId: 'x' }` -> `/documents/x/decisions`; unknown params stay `:name`. */
export function fillPath(pattern: string, params: Record<string, string>): string {
  return pattern.replace(/:([A-Za-z0-9_]+)/g, (whole, name: string) => (params[name] !== undefined ? encodeURIComponent(params[name]) : whole));
}

export function roleMay(entry: RouteEntry, role: UserRole): boolean {
  return entry.access === 'public' || entry.access.roles.length === 0 || entry.access.roles.includes(role);
}

/** The GET route a path is (literal segments win over parameters: `/incidents/grade` before `/incidents/:caseNumber`). */
export function pageRouteFor(table: readonly RouteEntry[], path: string): MatchedRoute | undefined {
  const candidates = table
    .filter((entry) => entry.method === 'get')
    .map((entry) => ({ entry, params: matchPath(entry.path, path) }))
    .filter((match): match is MatchedRoute => match.params !== undefined);
  return candidates.sort((a, b) => Object.keys(a.params).length - Object.keys(b.params).length)[0];
}

const isUnder = (path: string, base: string) => path === base || path.startsWith(`${base}/`);

/** The non-GET routes whose page is `page` (the deepest GET route above them), that `role` may call. */
export function actionsOf(table: readonly RouteEntry[], page: RouteEntry, role: UserRole): RouteEntry[] {
  const pages = table.filter((entry) => entry.method === 'get').map((entry) => entry.path);
  return table.filter((entry) => {
    if (entry.method === 'get' || !roleMay(entry, role) || entry.access === 'public') return false;
    if (!isUnder(entry.path, page.path)) return false;
    const owner = pages.filter((path) => isUnder(entry.path, path)).sort((a, b) => b.length - a.length)[0];
    return owner === page.path;
  });
}

/** Registration routes: a POST on a list's own path (POST /fault-repairs beside GET /fault-repairs). */
export function registrationsFor(table: readonly RouteEntry[], role: UserRole): RouteEntry[] {
  const lists = new Set(table.filter((entry) => entry.method === 'get').map((entry) => entry.path));
  return table.filter((entry) => entry.method === 'post' && lists.has(entry.path) && entry.access !== 'public' && roleMay(entry, role) && !entry.spec.multipart);
}

/**
 * Other pages about the thing a page shows: GET routes one literal segment deeper whose parameters
 * the page's fill by position (`/customers/:id` -> `/customers/:customerId/busy-hours`).
 */
export function relatedPagesOf(table: readonly RouteEntry[], page: RouteEntry, params: Record<string, string>, role: UserRole): { entry: RouteEntry; path: string }[] {
  const pageSegments = segmentsOf(page.path);
  const values = pageSegments.map((segment) => (segment.startsWith(':') ? params[segment.slice(1)] : segment));
  return table
    .filter((entry) => entry.method === 'get' && entry.access !== 'public' && roleMay(entry, role))
    .flatMap((entry) => {
      const segments = segmentsOf(entry.path);
      if (segments.length !== pageSegments.length + 1 || segments.at(-1)!.startsWith(':')) return [];
      const sameShape = pageSegments.every((segment, index) => (segment.startsWith(':') ? segments[index]!.startsWith(':') : segments[index] === segment));
      if (!sameShape || values.some((value) => value === undefined)) return [];
      return [{ entry, path: `/${[...values.map((value, index) => (pageSegments[index]!.startsWith(':') ? encodeURIComponent(value!) : value)), segments.at(-1)].join('/')}` }];
    });
}
