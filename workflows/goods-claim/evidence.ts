// How each piece of evidence the rules require of a goods claim (CLAIM_EVIDENCE in
// workflows/rules/goods.ts) is provided: an identifier recorded on the claim, or an uploaded file
// (an `evidence_files` row whose `item` is the requirement's text). Pure: bundled into workflow code.
import { CLAIM_EVIDENCE, type GoodsClaimKind } from '../rules/goods';

/** The identifiers a claim records; `deviceSerials` are the devices named at registration. */
export const CLAIM_IDENTIFIER_FIELDS = ['packingListNumber', 'boxNumber', 'materialCode', 'quantity', 'deviceSerials', 'contractAndOrderNumber'] as const;
export type ClaimIdentifierField = (typeof CLAIM_IDENTIFIER_FIELDS)[number];

/** The identifiers recorded after registration (the device serials are the claim's devices, fixed at registration). */
export interface ClaimIdentifiers {
  packingListNumber?: string;
  boxNumber?: string;
  materialCode?: string;
  quantity?: number;
  contractAndOrderNumber?: string;
}
export type RecordedIdentifierField = keyof ClaimIdentifiers;
export const RECORDED_IDENTIFIER_FIELDS = CLAIM_IDENTIFIER_FIELDS.filter((field): field is RecordedIdentifierField => field !== 'deviceSerials');

export interface EvidenceLabel {
  en: string;
  'zh-CN': string;
}

export type EvidenceProvision = ({ by: 'identifier'; field: ClaimIdentifierField } | { by: 'file' }) & { label: EvidenceLabel };

const identifier = (field: ClaimIdentifierField, zh: string) => (en: string): EvidenceProvision => ({ by: 'identifier', field, label: { en, 'zh-CN': zh } });
const file = (zh: string) => (en: string): EvidenceProvision => ({ by: 'file', label: { en, 'zh-CN': zh } });

/**
 * Every requirement of CLAIM_EVIDENCE, by its exact text, with how it is provided and its name in
 * each language (seed 004 11.2.2-11.2.3). test/goods-claim/evidence.test.ts holds it to the rules.
 */
const PROVISIONS: Readonly<Record<string, (en: string) => EvidenceProvision>> = {
  'goods-problem application form': file('货物问题申请表'),
  'packing list number': identifier('packingListNumber', '装箱单号'),
  'damaged or lost box number': identifier('boxNumber', '货损/丢货箱号'),
  'box number of the wrong goods': identifier('boxNumber', '差错货箱号'),
  'material code': identifier('materialCode', '物料编码'),
  quantity: identifier('quantity', '数量'),
  'device serial number': identifier('deviceSerials', '设备序列号'),
  'sales contract and order number': identifier('contractAndOrderNumber', '销售合同及订单号'),
  'clear photos of the damaged item and close-ups of the damage': file('货损物料整体及受损部位特写清晰照片'),
  'clear photos of all six sides of the inner and outer packaging': file('内外包装六个面清晰照片'),
  'delivery note marked damaged or lost': file('到货单（须备注货损、丢失）'),
  'tilt/shock labels': file('倾斜/振动标签'),
  'clear photo of the original factory seal label': file('原厂封装标签清晰照片'),
};

export const EVIDENCE_PROVISION: Readonly<Record<string, EvidenceProvision>> = Object.freeze(
  Object.fromEntries(Object.entries(PROVISIONS).map(([item, make]) => [item, make(item)])),
);

/** How a required item is provided; throws for an item the table does not know (the rules changed without it). */
export function provisionOf(item: string): EvidenceProvision {
  const provision = EVIDENCE_PROVISION[item];
  if (!provision) throw new RangeError(`no provision for the claim evidence "${item}": add it to EVIDENCE_PROVISION`);
  return provision;
}

/** The items of a kind that are files: what an upload's `item` may name. */
export function fileItemsOf(kind: GoodsClaimKind): string[] {
  return CLAIM_EVIDENCE[kind].filter((item) => provisionOf(item).by === 'file');
}

/** The identifier fields a kind requires, in the order of the rules. */
export function identifierFieldsOf(kind: GoodsClaimKind): ClaimIdentifierField[] {
  const fields: ClaimIdentifierField[] = [];
  for (const item of CLAIM_EVIDENCE[kind]) {
    const provision = provisionOf(item);
    if (provision.by === 'identifier' && !fields.includes(provision.field)) fields.push(provision.field);
  }
  return fields;
}

/** What a claim has: its recorded identifiers, its devices' serials and the `item` of each evidence file. */
export interface ProvidedEvidence {
  identifiers: ClaimIdentifiers;
  deviceSerials: readonly string[];
  fileItems: readonly (string | null)[];
}

function identifierProvided(field: ClaimIdentifierField, provided: ProvidedEvidence): boolean {
  if (field === 'deviceSerials') return provided.deviceSerials.length > 0;
  const value = provided.identifiers[field];
  return typeof value === 'number' ? value > 0 : typeof value === 'string' && value.trim() !== '';
}

/** The required evidence of a kind that is not provided, in the order of the rules. */
export function missingEvidence(kind: GoodsClaimKind, provided: ProvidedEvidence): string[] {
  return CLAIM_EVIDENCE[kind].filter((item) => {
    const provision = provisionOf(item);
    return provision.by === 'file' ? !provided.fileItems.includes(item) : !identifierProvided(provision.field, provided);
  });
}
