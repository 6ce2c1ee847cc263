import { randomBytes } from 'node:crypto';
import sharp from 'sharp';
import { z } from 'zod';
import type { Db } from '../../db';
import { insertCase } from '../../db/repositories/cases';
import { text } from '../../api/pages/link-page';
import { defineLinkAction, type LinkAction } from '../../api/routes/links';
import { createContact, createCustomer, uniqueTag } from './fixtures';

/** The evidence the test page asks for. */
export const TEST_EVIDENCE_ITEMS = ['delivery note marked damaged', { value: 'packaging photos', label: text('Photos of all six sides of the packaging', '包装六面照片') }] as const;

/** A link action of tests only whose page includes the evidence widget; its holders are "Li Lei". */
export const EVIDENCE_TEST_ACTION = 'test.evidence';
/** A link action that gives no access to evidence. */
export const NO_EVIDENCE_TEST_ACTION = 'test.no-evidence';

export function evidenceTestLinkActions(): LinkAction[] {
  return [
    defineLinkAction({
      action: EVIDENCE_TEST_ACTION,
      summary: 'Send the evidence of a test claim',
      body: z.object({ note: z.string().max(200).optional() }),
      evidence: { uploader: async () => 'Li Lei' },
      page: {
        title: text('Your claim', '您的申请'),
        submitLabel: text('I have sent everything', '已全部上传'),
        fields: [{ name: 'note', kind: 'textarea', required: false, maxLength: 200, label: text('Note', '备注') }],
        describe: async () => ({
          kind: 'form',
          locale: 'en',
          recipientName: 'Li Lei',
          intro: text('Please upload the evidence of your claim.', '请上传申请的证明材料。'),
          facts: [],
          evidence: { items: TEST_EVIDENCE_ITEMS },
        }),
        done: () => ({ message: text('Thank you.', '谢谢。'), facts: [] }),
      },
      perform: async () => ({ ok: true }),
    }),
    defineLinkAction({
      action: NO_EVIDENCE_TEST_ACTION,
      summary: 'Something unrelated to evidence',
      body: z.object({}),
      perform: async () => ({ ok: true }),
    }),
  ];
}

/** A goods claim case of a new customer: its id and number. */
export async function createEvidenceCase(db: Db): Promise<{ id: string; number: string; workflowId: string }> {
  const customer = await createCustomer(db);
  await createContact(db, customer.id, { name: 'Li Lei' });
  const number = `GC-2026-${uniqueTag()}`;
  const workflowId = `goods-claim/${number}`;
  const id = await insertCase(db, { kind: 'goods_claim', number, status: 'evidence_requested', customerId: customer.id, deviceId: null, workflowId, at: new Date() });
  return { id, number, workflowId };
}

/** A small PNG of one colour (each colour different bytes). */
export function pngImage(red: number, size = 600): Promise<Buffer> {
  return sharp({ create: { width: size, height: Math.round(size * 0.75), channels: 3, background: { r: red, g: 120, b: 40 } } }).png().toBuffer();
}

export function jpegImage(): Promise<Buffer> {
  return sharp({ create: { width: 800, height: 600, channels: 3, background: { r: 10, g: 60, b: 200 } } }).jpeg().toBuffer();
}

export function webpImage(): Promise<Buffer> {
  return sharp({ create: { width: 320, height: 320, channels: 3, background: { r: 250, g: 200, b: 0 } } }).webp().toBuffer();
}

/** A minimal PDF; `n` makes its bytes unique. */
export function pdfDocument(n: number): Buffer {
  return Buffer.from(`%PDF-1.4\n% evidence ${n}\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n`);
}

/** The start of a Windows executable (MZ header). */
export function windowsExecutable(): Buffer {
  return Buffer.concat([Buffer.from('MZ'), Buffer.alloc(62), randomBytes(512)]);
}

/** The start of a Linux executable (ELF header). */
export function linuxExecutable(): Buffer {
  return Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x01, 0x00]), Buffer.alloc(56), randomBytes(256)]);
}
