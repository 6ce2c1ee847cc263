import type { Task, TaskSource } from '../me/tasks';

/** Goods claims: the desk (and the managers) resolve the claims whose evidence is complete. */
export const goodsClaimTasks: TaskSource = async (db, actor) => {
  if (actor.role !== 'service_desk' && actor.role !== 'manager') return [];
  const claims = await db
    .selectFrom('goods_claims as g')
    .innerJoin('customers as c', 'c.id', 'g.customer_id')
    .select(['g.claim_number', 'g.kind', 'g.evidence_completed_at', 'g.created_at', 'c.name as customer_name'])
    .where('g.status', '=', 'resolution')
    .orderBy('g.claim_number')
    .execute();
  return claims.map(
    (claim): Task => ({
      kind: 'resolve_goods_claim',
      process: 'goods_claim',
      caseNumber: claim.claim_number,
      title: `Resolve goods claim ${claim.claim_number} (${claim.kind === 'transport_damage' ? 'transport damage' : 'wrong, missing or extra goods'}, ${claim.customer_name}): replacement, credit or refusal`,
      waitingSince: (claim.evidence_completed_at ?? claim.created_at).toISOString(),
      dueAt: null,
      href: `/goods-claims/${claim.claim_number}`,
    }),
  );
};
