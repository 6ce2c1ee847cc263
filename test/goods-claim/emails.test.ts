import { renderEmail } from '../../activities/shared/email-templates';

// The goods-claim emails in both languages: the missing evidence named in the reader's language, the
// claim's page link in the text and as a link in the HTML part.

const missing = ['material code', 'tilt/shock labels'];
const claim = { claimNumber: 'GC-2026-000042', customerName: 'Shanghai Mobile', kind: 'transport_damage' as const, lastDay: '2026-11-28' };
const claimUrl = 'http://fieldops.test/links/abc.def';

describe('goods claim emails', () => {
  test('the evidence request lists what is missing in Chinese for a zh-CN contact, with the last day and the link', () => {
    const email = renderEmail({ template: 'goods_claim_evidence_request', params: { ...claim, missing, claimUrl } }, 'zh-CN');
    expect(email.subject).toBe('[GC-2026-000042] 货物问题申报：请补充资料');
    expect(email.text).toContain('- 物料编码\n- 倾斜/振动标签\n');
    expect(email.text).toContain('2026年11月28日');
    expect(email.text).toContain(claimUrl);
    expect(email.html).toContain(`href="${claimUrl}"`);
  });

  test('the chase and the lapse name the same items in English', () => {
    const chase = renderEmail({ template: 'goods_claim_evidence_chase', params: { ...claim, missing, claimUrl } }, 'en');
    expect(chase.text).toContain('- material code\n- tilt/shock labels\n');
    const lapsed = renderEmail({ template: 'goods_claim_lapsed', params: { ...claim, missing } }, 'en');
    expect(lapsed.text).toContain('ended on 2026-11-28');
    expect(lapsed.text).toContain('- tilt/shock labels');
  });

  test('the outcome says what was decided: the credit in yuan, the tracking number, or the reason', () => {
    const base = { claimNumber: claim.claimNumber, customerName: claim.customerName, kind: claim.kind, carrier: null, trackingNumber: null, amountCents: null, reason: null };
    expect(renderEmail({ template: 'goods_claim_resolved', params: { ...base, outcome: 'credit', amountCents: 45_000 } }, 'zh-CN').text).toContain('CNY 450.00');
    expect(renderEmail({ template: 'goods_claim_resolved', params: { ...base, outcome: 'replacement', carrier: 'SF Express', trackingNumber: 'SF1' } }, 'en').text).toContain('carrier SF Express, tracking number SF1');
    expect(renderEmail({ template: 'goods_claim_resolved', params: { ...base, outcome: 'refusal', reason: 'Damage happened after delivery' } }, 'zh-CN').text).toContain('原因：Damage happened after delivery');
  });
});
