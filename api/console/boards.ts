import type { ConsolePageContext } from './pages';
import { apiQueryOf, listView, type Page } from './pages';
import { pageRouteFor, roleMay } from './route-map';
import { chinaTime } from './values';

/*
 * Boards: links to the generic list pages of the API's board-like lists (deadlines, open incidents by
 * level, campaign progress), each a plain filterable console URL, with how many each holds now. And
 * Billing: a cycle's invoice lines and its CSV.
 */

interface BoardLink {
  label: string;
  /** The API list it shows (path and query). */
  api: string;
  tone?: 'bad' | 'warn';
}

const isPage = (value: unknown): value is Page =>
  typeof value === 'object' && value !== null && Array.isArray((value as Page).items) && typeof (value as Page).total === 'number';

export async function boardsPage(ctx: ConsolePageContext): Promise<void> {
  const ui = ctx.text.ui;
  const groups: { title: string; intro: string; links: BoardLink[] }[] = [
    {
      title: ui.boardDeadlines,
      intro: ui.boardDeadlinesIntro,
      links: [
        { label: ui.boardOverdue, api: '/boards/deadlines?state=overdue', tone: 'bad' },
        { label: ui.boardDueSoon, api: '/boards/deadlines?state=due_soon', tone: 'warn' },
        { label: ui.boardAllDeadlines, api: '/boards/deadlines' },
      ],
    },
    {
      title: ui.boardIncidents,
      intro: ui.boardIncidentsIntro,
      links: [
        ...(['1', '2', '3'] as const).map((level): BoardLink => ({ label: ui.boardIncidentLevel(level), api: `/incidents?status=open&level=${level}`, tone: level === '1' ? 'bad' : undefined })),
        { label: ui.boardAllOpenIncidents, api: '/incidents?status=open' },
      ],
    },
    {
      title: ui.boardCampaigns,
      intro: ui.boardCampaignsIntro,
      links: [
        { label: ui.boardCampaignsRolling, api: '/rectification-campaigns?status=rolling_out' },
        { label: ui.boardCampaignsAll, api: '/rectification-campaigns' },
      ],
    },
  ];
  const role = ctx.req.consoleSession!.actor.role;
  const mayRead = (api: string) => {
    const match = pageRouteFor(ctx.table, api.split('?')[0]!);
    return Boolean(match && match.entry.access !== 'public' && roleMay(match.entry, role));
  };
  const boards = await Promise.all(
    groups.map(async (group) => ({
      ...group,
      links: await Promise.all(
        group.links.filter((link) => mayRead(link.api)).map(async (link) => {
          const answer = await ctx.api.get(`${link.api}${link.api.includes('?') ? '&' : '?'}limit=1`);
          return { ...link, href: `/console${link.api}`, count: answer.status === 200 && isPage(answer.body) ? answer.body.total : undefined };
        }),
      ),
    })),
  );
  ctx.render.page(ctx.req, ctx.res, 200, 'boards', { boards: boards.filter((group) => group.links.length > 0) }, { title: ui.boards });
}

/** The billing cycle `now` falls in, China time (YYYY-MM). */
export const chinaCycleOf = (now: Date) => chinaTime(now.toISOString()).slice(0, 7);

export async function billingPage(ctx: ConsolePageContext): Promise<void> {
  const { req, res, text } = ctx;
  const requested = typeof req.query.cycle === 'string' ? req.query.cycle : '';
  const cycle = requested || chinaCycleOf(ctx.now);
  const query = { ...req.query, cycle };
  const answer = await ctx.api.get(`/invoice-lines${apiQueryOf(query)}`);
  if (answer.status === 403) return ctx.render.message(req, res, 403, 'forbidden', { href: '/console', label: 'myWork' });
  const list = answer.status === 200 && isPage(answer.body) ? listView(answer.body, ctx, '/invoice-lines', query) : undefined;
  const error = answer.status === 200 ? undefined : ((answer.body as { error?: { message?: string } } | null)?.error?.message ?? 'Error');
  // The pager of the generic list points at the API path's console page; here it stays on /console/billing.
  const rehome = (href: string | undefined) => href?.replace(/^\/console\/invoice-lines/, '/console/billing');
  ctx.render.page(ctx.req, ctx.res, answer.status === 200 ? 200 : answer.status, 'billing', {
    title: text.ui.billing,
    cycle,
    error,
    list: list ? { ...list, previous: rehome(list.previous), next: rehome(list.next) } : undefined,
    csvHref: `/invoice-lines/export?cycle=${encodeURIComponent(cycle)}`,
    csvName: `invoice-lines-${cycle}.csv`,
  }, { title: text.ui.billing, live: list ? `/invoice-lines${apiQueryOf(query)}` : undefined });
}
