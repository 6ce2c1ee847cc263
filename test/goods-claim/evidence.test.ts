import { CLAIM_EVIDENCE, type GoodsClaimKind } from '../../workflows/rules/goods';
import { CLAIM_IDENTIFIER_FIELDS, EVIDENCE_PROVISION, fileItemsOf, identifierFieldsOf, missingEvidence, provisionOf } from '../../workflows/goods-claim/evidence';

// The table of how each piece of required evidence is provided is held to the rules' list: every
// requirement of every kind is mapped, and nothing else is.

const KINDS = Object.keys(CLAIM_EVIDENCE) as GoodsClaimKind[];

describe('EVIDENCE_PROVISION maps CLAIM_EVIDENCE', () => {
  test.each(KINDS)('every requirement of %s is mapped to an identifier field or a file, with its name in both languages', (kind) => {
    for (const item of CLAIM_EVIDENCE[kind]) {
      const provision = EVIDENCE_PROVISION[item];
      expect(provision).toBeDefined();
      expect(provision!.label.en).toBe(item);
      expect(provision!.label['zh-CN']).toMatch(/[\u4e00-\u9fff]/);
      if (provision!.by === 'identifier') expect(CLAIM_IDENTIFIER_FIELDS).toContain(provision!.field);
    }
  });

  test('the table holds no requirement the rules do not list', () => {
    const required = new Set(KINDS.flatMap((kind) => CLAIM_EVIDENCE[kind]));
    expect(Object.keys(EVIDENCE_PROVISION).filter((item) => !required.has(item))).toEqual([]);
  });

  test('an item the table does not know is refused by name', () => {
    expect(() => provisionOf('a signed confession')).toThrow(/a signed confession/);
  });

  test('transport damage: identifiers and files as the seed lists them (004 11.2.2)', () => {
    expect(identifierFieldsOf('transport_damage')).toEqual(['packingListNumber', 'boxNumber', 'materialCode', 'quantity', 'deviceSerials']);
    expect(fileItemsOf('transport_damage')).toEqual([
      'goods-problem application form',
      'clear photos of the damaged item and close-ups of the damage',
      'clear photos of all six sides of the inner and outer packaging',
      'delivery note marked damaged or lost',
      'tilt/shock labels',
    ]);
    expect(identifierFieldsOf('wrong_missing_extra')).toContain('contractAndOrderNumber');
  });
});

describe('missingEvidence', () => {
  const complete = {
    identifiers: { packingListNumber: 'PL-1', boxNumber: 'B-3', materialCode: 'M-9', quantity: 2 },
    deviceSerials: ['SN-1'],
    fileItems: fileItemsOf('transport_damage'),
  };

  test('nothing is missing when every identifier and file is there', () => {
    expect(missingEvidence('transport_damage', complete)).toEqual([]);
  });

  test('names each missing requirement in the order of the rules, a blank identifier counting as missing', () => {
    const missing = missingEvidence('transport_damage', {
      ...complete,
      identifiers: { ...complete.identifiers, packingListNumber: '  ' },
      fileItems: complete.fileItems.filter((item) => item !== 'tilt/shock labels'),
    });
    expect(missing).toEqual(['packing list number', 'tilt/shock labels']);
  });

  test('a file whose item names no requirement, or no item at all, provides nothing', () => {
    const missing = missingEvidence('wrong_missing_extra', { ...complete, identifiers: { ...complete.identifiers, contractAndOrderNumber: 'C-7' }, fileItems: [null, 'something else'] });
    expect(missing).toEqual(fileItemsOf('wrong_missing_extra'));
  });
});
