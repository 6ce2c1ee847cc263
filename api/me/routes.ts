import { z } from 'zod';
import type { Db } from '../../db';
import type { ApiRoutes } from '../route';
import { taskSchema, tasksFor, type TaskSource } from './tasks';

/** `GET /me/tasks`: what waits for the calling user across processes (a manager's approval inbox, an author's revisions, ...). */
export function registerMyTaskRoutes(routes: ApiRoutes, deps: { db: Db; sources: readonly TaskSource[] }): void {
  routes.add({
    method: 'get', path: '/me/tasks', tag: 'Me', summary: 'What is waiting for me across processes, the ones with a deadline first', access: { roles: [] },
    response: { schema: z.object({ items: z.array(taskSchema) }).meta({ id: 'MyTasks' }) },
    handler: async ({ actor }) => ({ items: await tasksFor(deps.db, actor!, deps.sources) }),
  });
}
