import { type DoaApplication, type DoaConditionCode, assessDoa, claimWindow, replacementWarranty } from '../../workflows/rules/goods';

const eligible: DoaApplication = {
  firstPowerOnAt: '2026-03-16T10:00:00+08:00',
  failedAt: '2026-03-17T09:00:00+08:00',
  appliedByEndUser: true,
  applicationFormProvided: true,
  photosProvided: true,
  isTestProductOrSample: false,
  originalPackagingProvided: true,
  packagingDefects: [],
  packingMaterialsComplete: true,
  accessoriesCompleteAgainstPackingList: true,
  physicalDamage: false,
  sealsUnbroken: true,
  labelsComplete: true,
  originalHardwareAndPreinstalledSoftware: true,
};

describe('DOA eligibility', () => {
  it('accepts an application meeting every condition: a new unit', () => {
    expect(assessDoa(eligible)).toMatchObject({ eligible: true, failedConditions: [], remedy: 'replace_with_new_unit', carrierClaimAdvised: false });
  });

  it.each([
    ['failed at first power-on', { failedAt: eligible.firstPowerOnAt }],
    ['failed exactly 48 h after first power-on', { failedAt: '2026-03-18T10:00:00+08:00' }],
  ])('accepts: %s', (_name, change) => {
    expect(assessDoa({ ...eligible, ...change }).eligible).toBe(true);
  });

  const alone: [DoaConditionCode, Partial<DoaApplication>][] = [
    ['not_within_48h_of_power_on', { failedAt: '2026-03-18T10:01:00+08:00' }],
    ['not_applied_by_end_user', { appliedByEndUser: false }],
    ['application_form_missing', { applicationFormProvided: false }],
    ['photos_missing', { photosProvided: false }],
    ['test_product_or_sample', { isTestProductOrSample: true }],
    ['original_packaging_missing', { originalPackagingProvided: false }],
    ['packaging_damaged', { packagingDefects: ['dented'] }],
    ['packing_materials_incomplete', { packingMaterialsComplete: false }],
    ['accessories_incomplete', { accessoriesCompleteAgainstPackingList: false }],
    ['physical_damage', { physicalDamage: true }],
    ['seals_broken', { sealsUnbroken: false }],
    ['labels_incomplete', { labelsComplete: false }],
    ['hardware_or_software_not_original', { originalHardwareAndPreinstalledSoftware: false }],
  ];

  it.each(alone)('%s failing alone rejects with exactly that reason and offers an RMA repair', (code, change) => {
    const decision = assessDoa({ ...eligible, ...change });
    expect(decision.eligible).toBe(false);
    expect(decision.remedy).toBe('offer_rma_repair');
    expect(decision.failedConditions.map((condition) => condition.code)).toEqual([code]);
    expect(decision.failedConditions[0]?.en.length).toBeGreaterThan(0);
    expect(decision.failedConditions[0]?.zh.length).toBeGreaterThan(0);
  });

  it('returns every failed condition, not just the first', () => {
    const everything = Object.assign({}, eligible, ...alone.map(([, change]) => change)) as DoaApplication;
    const decision = assessDoa(everything);
    expect(decision.failedConditions.map((condition) => condition.code)).toEqual(alone.map(([code]) => code));
    expect(decision.carrierClaimAdvised).toBe(true);
  });

  it('names each packaging defect and refuses a failure dated before power-on', () => {
    const decision = assessDoa({ ...eligible, packagingDefects: ['torn', 'damp'], failedAt: '2026-03-16T09:00:00+08:00' });
    expect(decision.failedConditions.map((condition) => condition.code)).toEqual(['not_within_48h_of_power_on', 'packaging_damaged']);
    expect(decision.failedConditions[1]?.en).toContain('torn, damp');
  });
});

describe('claim windows: the arrival date is day 0', () => {
  it.each([
    ['transport_damage', '2026-03-15T23:59:59+08:00', 14, true],
    ['transport_damage', '2026-03-16T00:00:00+08:00', 15, false],
    ['transport_damage', '2026-03-15T16:30:00Z', 15, false], // 00:30 on the 16th in Shanghai
    ['transport_damage', '2026-03-01T08:00:00+08:00', 0, true],
    ['wrong_missing_extra', '2026-03-31T18:00:00+08:00', 30, true],
    ['wrong_missing_extra', '2026-04-01T09:00:00+08:00', 31, false],
  ] as const)('%s claimed at %s: day %i, accepted %s', (kind, claimedAt, dayOfClaim, withinWindow) => {
    const decision = claimWindow(kind, '2026-03-01', claimedAt);
    expect(decision).toMatchObject({ dayOfClaim, withinWindow });
    expect(decision.lastDay).toBe(kind === 'transport_damage' ? '2026-03-15' : '2026-03-31');
    expect(decision.deadlineAt).toBe(`${decision.lastDay}T23:59:59+08:00`);
    expect(decision.requiredEvidence.length).toBeGreaterThan(5);
  });

  it('refuses a claim dated before the arrival', () => {
    expect(claimWindow('transport_damage', '2026-03-01', '2026-02-28T10:00:00+08:00').withinWindow).toBe(false);
  });
});

describe('replacement warranty: 90 days from shipping or the rest of the original warranty, whichever is longer', () => {
  it('90 days when the original warranty ends sooner', () => {
    expect(replacementWarranty('2026-03-01', '2026-04-30')).toMatchObject({ endsOn: '2026-05-30', basis: 'ninety_days_from_shipping', ninetyDaysEndOn: '2026-05-30' });
  });

  it('90 days when the part was out of warranty', () => {
    expect(replacementWarranty('2026-03-01', null)).toMatchObject({ endsOn: '2026-05-30', basis: 'ninety_days_from_shipping' });
  });

  it('the original warranty when it runs longer', () => {
    expect(replacementWarranty('2026-03-01', '2027-06-30')).toMatchObject({ endsOn: '2027-06-30', basis: 'rest_of_original_warranty' });
  });

  it('a tie keeps the 90-day basis', () => {
    expect(replacementWarranty('2026-03-01', '2026-05-30')).toMatchObject({ endsOn: '2026-05-30', basis: 'ninety_days_from_shipping' });
  });
});
