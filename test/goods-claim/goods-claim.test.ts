import fs from 'node:fs';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import sharp from 'sharp';
import pino from 'pino';
import request from 'supertest';
import { goodsClaimProcess } from '../../api/goods-claim/registration';
import { startMissingProcesses } from '../../api/shared/process-starts';
import { insertCase } from '../../db/repositories/cases';
import { claimWindow } from '../../workflows/rules/goods';
import { addCalendarDays, shanghaiDate } from '../../workflows/rules/time';
import { seedServiceCompany, type ServiceCompany } from '../support/fixtures';
import { startProcessHarness, type ProcessHarness } from '../support/process-harness';
import { bearer, eventually, linkPathIn, mailsTo, pause, sleepUntil } from '../support/probes';

// Goods claims end to end: real worker, the test server with time skipping, PostgreSQL, SMTP. The
// virtual clock starts on Monday 2026-11-16 09:00 Asia/Shanghai; the desk uploads evidence through
// the staff evidence route, the customer adds identifiers through the claim's page link.
const START_TIME = '2026-11-16T01:00:00Z';
const CONTACT_EMAIL = 'lilei@cmcc.test';
const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
const after = (iso: string, ms: number): string => new Date(Date.parse(iso) + ms).toISOString();

/** A tiny PNG of its own colour: each upload to a case needs bytes of its own (the same bytes are the same file). */
const png = (shade: number): Promise<Buffer> => sharp({ create: { width: 2, height: 2, channels: 3, background: { r: shade, g: 40, b: 90 } } }).png().toBuffer();

describe('goods claims (window, evidence requested, chase, completion, credit, lapse)', () => {
  let h: ProcessHarness;
  let company: ServiceCompany<never>;
  let pngShade = 1;
  const as = (role: 'manager' | 'service_desk') => bearer(h.tokens[role]);
  const virtualNow = async () => new Date(await h.env.currentTimeMs()).toISOString();
  const get = async (number: string) => (await request(h.app).get(`/goods-claims/${number}`).set(as('service_desk'))).body;

  async function register(body: Record<string, unknown>) {
    return request(h.app)
      .post('/goods-claims')
      .set(as('service_desk'))
      .send({ customerId: company.customerId, contactId: company.contactId, description: 'Two line cards arrived with the outer box crushed', ...body });
  }

  /** With SAVE_WORKFLOW_HISTORIES=1, keeps the claim's history for test/goods-claim/replay.test.ts. */
  async function saveHistory(number: string, file: string): Promise<void> {
    if (process.env.SAVE_WORKFLOW_HISTORIES !== '1') return;
    const handle = h.env.client.workflow.getHandle(`goods/${number}`);
    await handle.result();
    fs.mkdirSync(path.join(__dirname, 'histories'), { recursive: true });
    fs.writeFileSync(path.join(__dirname, 'histories', file), temporal.api.history.v1.History.encode(await handle.fetchHistory()).finish());
  }

  async function upload(caseNumber: string, item: string) {
    const response = await request(h.app)
      .post(`/cases/${caseNumber}/evidence`)
      .set(as('service_desk'))
      .field('item', item)
      .attach('files', await png(pngShade++), `${item.slice(0, 20).replace(/\W+/g, '-')}.png`);
    expect(response.status).toBe(201);
    return response.body;
  }

  beforeAll(async () => {
    h = await startProcessHarness({ startTime: START_TIME });
    company = await seedServiceCompany(h.database.db, { roles: [], contact: { locale: 'en' } });
  }, 60_000);
  afterAll(async () => {
    await h?.close();
  });

  test('a claim missing two items is held and the customer emailed the two; chased once after 3 working days; completed (file + identifier) and credited once', async () => {
    await company.addDevice('GC-SN-001');
    // The desk registers the claim phoned in this morning (day 2 after arrival) with the papers it has;
    // the worker is not running yet, so the first evidence check sees everything the desk uploaded.
    const registered = await register({
      kind: 'transport_damage',
      arrivedOn: '2026-11-14',
      claimedAt: START_TIME,
      carriedByUs: true,
      deviceSerials: ['GC-SN-001'],
      identifiers: { packingListNumber: 'PL-7781', boxNumber: 'BOX-3', quantity: 2 },
    });
    expect(registered.status).toBe(201);
    const number: string = registered.body.claimNumber;
    expect(number).toMatch(/^GC-2026-\d{6}$/);
    expect(registered.body).toMatchObject({ status: 'registered', workflowId: `goods/${number}`, window: { arrivedOn: '2026-11-14', dayOfClaim: 2, lastDay: '2026-11-28' } });
    for (const item of [
      'goods-problem application form',
      'clear photos of the damaged item and close-ups of the damage',
      'clear photos of all six sides of the inner and outer packaging',
      'delivery note marked damaged or lost',
    ]) {
      await upload(number, item);
    }
    await h.startWorker();

    const held = await eventually(() => get(number), (b) => b.status === 'evidence_requested');
    expect(held.evidence.missing).toEqual(['material code', 'tilt/shock labels']);
    expect(held.evidence.files).toHaveLength(4);
    expect(held.evidence.files[0]).toMatchObject({ item: 'goods-problem application form', sniffedType: 'image/png', url: `/evidence/${held.evidence.files[0].id}` });
    // Requested on Monday: Tuesday, Wednesday and Thursday pass, the chase goes on Friday 09:00 China time.
    expect(held.evidence.chaseAt).toBe('2026-11-20T01:00:00.000Z');
    const [request1] = await eventually(() => mailsTo(h.smtp, CONTACT_EMAIL, `[${number}] Goods claim: evidence needed`), (mails) => mails.length === 1);
    expect(request1!.text).toContain('- material code\n- tilt/shock labels\n');
    expect(request1!.text).not.toContain('packing list number');
    expect(request1!.text).toContain('2026-11-28');
    const claimPage = linkPathIn(request1!)!;
    expect(claimPage).toBeDefined();

    // Not before its time; then exactly once.
    await sleepUntil(h.env, after('2026-11-20T01:00:00Z', -MINUTE));
    await pause(300);
    expect(mailsTo(h.smtp, CONTACT_EMAIL, 'Reminder: your goods claim is still incomplete')).toHaveLength(0);
    await sleepUntil(h.env, after('2026-11-20T01:00:00Z', MINUTE));
    const [chase] = await eventually(() => mailsTo(h.smtp, CONTACT_EMAIL, `[${number}] Reminder: your goods claim is still incomplete`), (mails) => mails.length === 1);
    expect(chase!.text).toContain('- material code\n- tilt/shock labels\n');
    const chased = await eventually(() => get(number), (b) => b.evidence.chasedAt !== null);
    expect(chased.status).toBe('evidence_requested');
    await sleepUntil(h.env, after('2026-11-20T01:00:00Z', DAY));
    await pause(300);
    expect(mailsTo(h.smtp, CONTACT_EMAIL, 'Reminder: your goods claim is still incomplete')).toHaveLength(1);

    // The customer's page lists what is missing and offers the missing file first in its upload widget.
    const page = await request(h.app).get(`${claimPage}?lang=en`).set('Accept', 'text/html');
    expect(page.status).toBe(200);
    expect(page.text).toContain(number);
    expect(page.text).toContain('• material code');
    expect((await request(h.app).get(`${claimPage}?lang=zh-CN`).set('Accept', 'text/html')).text).toContain('• 倾斜/振动标签');
    expect(page.text.indexOf('value="tilt/shock labels"')).toBeGreaterThan(-1);
    expect(page.text.indexOf('value="tilt/shock labels"')).toBeLessThan(page.text.indexOf('value="goods-problem application form"'));

    // The customer uploads the labels through the link: the workflow checks again and still waits for the material code.
    const uploaded = await request(h.app).post(`${claimPage}/evidence`).field('item', 'tilt/shock labels').attach('files', await png(pngShade++), 'labels.png');
    expect(uploaded.status).toBe(201);
    await eventually(() => get(number), (b) => b.evidence.missing.length === 1);
    const labels = await get(number);
    expect(labels.status).toBe('evidence_requested');
    expect(labels.evidence.missing).toEqual(['material code']);
    expect(labels.evidence.files.find((file: { item: string }) => file.item === 'tilt/shock labels')).toMatchObject({ uploadedBy: 'Li Lei', uploadedByRole: 'customer' });

    // The customer sends the page's form as a browser does: the recorded numbers come back prefilled, the material code is added.
    const formPage = await request(h.app).get(`${claimPage}?lang=en`).set('Accept', 'text/html');
    expect(formPage.text).toContain('value="PL-7781"');
    const nonce = /name="_nonce" value="([^"]+)"/.exec(formPage.text)?.[1];
    const cookie = (formPage.headers['set-cookie'] as unknown as string[] | undefined)?.map((line) => line.split(';')[0]).join('; ');
    const completed = await request(h.app)
      .post(claimPage)
      .set('Cookie', cookie!)
      .type('form')
      .send({ _nonce: nonce!, _lang: 'en', packingListNumber: 'PL-7781', boxNumber: 'BOX-3', materialCode: 'NE40E-LPU-02', quantity: '2', contractAndOrderNumber: '' });
    expect(completed.status).toBe(200);
    expect(completed.text).toContain(`claim ${number} is complete and goes to review`);
    expect((await get(number)).status).toBe('resolution');
    const complete = await get(number);
    expect(complete.identifiers).toMatchObject({ packingListNumber: 'PL-7781', boxNumber: 'BOX-3', quantity: 2, materialCode: 'NE40E-LPU-02' });
    expect(complete.evidence.required.every((r: { provided: boolean }) => r.provided)).toBe(true);
    await eventually(() => mailsTo(h.smtp, CONTACT_EMAIL, `[${number}] Your goods claim is complete`), (mails) => mails.length === 1);

    // The desk credits the customer: one invoice line, however often it is sent.
    const credited = await request(h.app).post(`/goods-claims/${number}/resolution`).set(as('service_desk')).send({ outcome: 'credit', amountCents: 45_000, note: 'Two cards, carrier damage' });
    expect(credited.status).toBe(200);
    expect(credited.body.status).toBe('credited');
    expect(credited.body.decision).toMatchObject({ outcome: 'credit', creditAmountCents: 45_000, role: 'service_desk', invoiceLine: { amountCents: -45_000, issued: false } });
    const again = await request(h.app).post(`/goods-claims/${number}/resolution`).set(as('manager')).send({ outcome: 'credit', amountCents: 45_000, note: null });
    expect(again.status).toBe(409);
    const lines = await h.database.db.selectFrom('invoice_lines').selectAll().where('customer_id', '=', company.customerId).execute();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ amount_cents: -45_000, source_ref: `goods-claim/${number}/credit` });
    const [outcome] = await eventually(() => mailsTo(h.smtp, CONTACT_EMAIL, `[${number}] The outcome of your goods claim`), (mails) => mails.length === 1);
    expect(outcome!.text).toContain('CNY 450.00');

    const closed = await get(number);
    // The API stamps its steps with the wall clock and the workflow with the virtual one: compare the entries, not their order.
    const actions: string[] = closed.timeline.map((event: { action: string }) => event.action);
    expect(actions.filter((action) => action.startsWith('goods_claim.')).sort()).toEqual(
      ['goods_claim.registered', 'goods_claim.evidence_requested', 'goods_claim.evidence_chased', 'goods_claim.identifiers_recorded', 'goods_claim.evidence_complete', 'goods_claim.credited'].sort(),
    );
    expect(actions.filter((action) => action === 'evidence.uploaded')).toHaveLength(5);
    expect((await h.database.db.selectFrom('cases').select('closed_at').where('number', '=', number).executeTakeFirstOrThrow()).closed_at).not.toBeNull();
    // Every email of the claim arrived once.
    expect(mailsTo(h.smtp, CONTACT_EMAIL, `[${number}]`).map((mail) => mail.subject)).toHaveLength(4);
    await saveHistory(number, 'goods-claim-chased-completed-credited.binpb');
  }, 120_000);

  test('transport damage claimed on day 14 is accepted, on day 15 refused naming arrivedOn and the last day', async () => {
    await company.addDevice('GC-SN-014');
    const claimedAt = await virtualNow();
    const today = shanghaiDate(Date.parse(claimedAt));
    const base = { kind: 'transport_damage', claimedAt, carriedByUs: true, deviceSerials: ['GC-SN-014'] };

    const day15 = await register({ ...base, arrivedOn: addCalendarDays(today, -15) });
    expect(day15.status).toBe(422);
    expect(day15.body.error.code).toBe('outside_claim_window');
    expect(day15.body.error.details[0]).toMatchObject({ in: 'body', field: 'arrivedOn' });
    expect(day15.body.error.details[0].message).toContain('within 14 days of arrival');
    expect(day15.body.error.details[0].message).toContain(addCalendarDays(today, -1));
    expect(day15.body.error.message).toContain('day 15');

    const day14 = await register({ ...base, arrivedOn: addCalendarDays(today, -14) });
    expect(day14.status).toBe(201);
    expect(day14.body.window).toMatchObject({ dayOfClaim: 14, lastDay: today });
    const held = await eventually(() => get(day14.body.claimNumber), (b) => b.status === 'evidence_requested');
    expect(held.evidence.missing).toContain('packing list number');
  }, 60_000);

  test('a claim completed by the desk waits in its task list and is resolved with a replacement shipped; a held one cannot be resolved', async () => {
    await company.addDevice('GC-SN-REPL');
    const claimedAt = await virtualNow();
    const response = await register({
      kind: 'wrong_missing_extra',
      arrivedOn: addCalendarDays(shanghaiDate(Date.parse(claimedAt)), -3),
      claimedAt,
      deviceSerials: ['GC-SN-REPL'],
      identifiers: { contractAndOrderNumber: 'SC-2026-201 / PO-9', packingListNumber: 'PL-9', boxNumber: 'BOX-1', materialCode: '02310QFX', quantity: 1 },
      description: 'A 40G optical module arrived instead of the ordered 100G one',
    });
    expect(response.status).toBe(201);
    const number: string = response.body.claimNumber;
    const held = await eventually(() => get(number), (b) => b.status === 'evidence_requested');
    expect(held.evidence.missing).toEqual(['goods-problem application form', 'clear photos of all six sides of the inner and outer packaging', 'clear photo of the original factory seal label']);
    const early = await request(h.app).post(`/goods-claims/${number}/resolution`).set(as('service_desk')).send({ outcome: 'refusal', reason: 'Not our goods' });
    expect(early.status).toBe(409);
    expect(early.body.error.message).toContain('waits for the evidence the rules require');

    for (const item of held.evidence.missing as string[]) await upload(number, item);
    await eventually(() => get(number), (b) => b.status === 'resolution');
    const tasks = await request(h.app).get('/me/tasks').set(as('service_desk'));
    expect(tasks.body.items).toEqual(expect.arrayContaining([expect.objectContaining({ kind: 'resolve_goods_claim', caseNumber: number, href: `/goods-claims/${number}` })]));

    const shipped = await request(h.app).post(`/goods-claims/${number}/resolution`).set(as('manager')).send({ outcome: 'replacement', carrier: 'SF Express', trackingNumber: 'SF1234567890' });
    expect(shipped.status).toBe(200);
    expect(shipped.body).toMatchObject({ status: 'replacement_shipped', decision: { outcome: 'replacement', carrier: 'SF Express', trackingNumber: 'SF1234567890', role: 'manager', invoiceLine: null } });
    const [outcome] = await eventually(() => mailsTo(h.smtp, CONTACT_EMAIL, `[${number}] The outcome of your goods claim`), (mails) => mails.length === 1);
    expect(outcome!.text).toContain('SF1234567890');
    const afterwards = await request(h.app).get('/me/tasks').set(as('service_desk'));
    expect(JSON.stringify(afterwards.body)).not.toContain(number);
  }, 60_000);

  test('a claim committed without its workflow (the start failed) is started by the worker round with its recorded window', async () => {
    const db = h.database.db;
    const device = await company.addDevice('GC-SN-ORPHAN');
    const number = 'GC-2026-900001';
    const claimedAt = await virtualNow();
    const window = claimWindow('transport_damage', addCalendarDays(shanghaiDate(Date.parse(claimedAt)), -2), claimedAt);
    await db.transaction().execute(async (trx) => {
      const caseId = await insertCase(trx, { kind: 'goods_claim', number, status: 'registered', customerId: company.customerId, deviceId: device.id, workflowId: `goods/${number}`, at: new Date(Date.now() - 60_000) });
      await trx
        .insertInto('goods_claims')
        .values({
          case_id: caseId, claim_number: number, customer_id: company.customerId, contact_id: company.contactId, kind: 'transport_damage', status: 'registered',
          arrived_on: window.arrivedOn, claimed_at: claimedAt, window_last_day: window.lastDay, window_deadline_at: window.deadlineAt, day_of_claim: window.dayOfClaim,
          carried_by_us: true, device_serials: ['GC-SN-ORPHAN'], identifiers: '{}', description: 'd', registered_by: 'test', registered_by_role: 'service_desk',
        })
        .execute();
    });
    const report = await startMissingProcesses(db, h.env.client, { taskQueue: h.taskQueue, logger: pino({ level: 'silent' }), graceMs: 0, processes: { goods_claim: goodsClaimProcess } });
    expect(report.started).toEqual([number]);
    await eventually(() => get(number), (b) => b.status === 'evidence_requested');
    const state = await h.env.client.workflow.getHandle(`goods/${number}`).query<{ deadlineAt: string }>('goodsClaimState');
    expect(Date.parse(state.deadlineAt)).toBe(Date.parse(window.deadlineAt));
    await eventually(() => mailsTo(h.smtp, CONTACT_EMAIL, `[${number}] Goods claim: evidence needed`), (mails) => mails.length === 1);
  }, 60_000);

  test('a claim still incomplete at the end of its window lapses and the customer is told what was missing', async () => {
    await company.addDevice('GC-SN-030');
    const claimedAt = await virtualNow();
    const today = shanghaiDate(Date.parse(claimedAt));
    // Day 29 of 30: the window ends at the end of tomorrow, before any chase is due.
    const response = await register({
      kind: 'wrong_missing_extra',
      arrivedOn: addCalendarDays(today, -29),
      claimedAt,
      deviceSerials: ['GC-SN-030'],
      identifiers: { contractAndOrderNumber: 'SC-2026-118 / PO-55' },
      description: 'One box of the order is missing',
    });
    expect(response.status).toBe(201);
    const number: string = response.body.claimNumber;
    const held = await eventually(() => get(number), (b) => b.status === 'evidence_requested');
    expect(held.window.lastDay).toBe(addCalendarDays(today, 1));
    expect(Date.parse(held.evidence.chaseAt)).toBeGreaterThan(Date.parse(held.window.deadlineAt));

    await sleepUntil(h.env, after(held.window.deadlineAt, MINUTE));
    const lapsed = await eventually(() => get(number), (b) => b.status === 'lapsed');
    expect(lapsed.lapsedAt).not.toBeNull();
    const [notice] = await eventually(() => mailsTo(h.smtp, CONTACT_EMAIL, `[${number}] Your goods claim has lapsed`), (mails) => mails.length === 1);
    expect(notice!.text).toContain('- packing list number');
    expect(notice!.text).toContain('- clear photo of the original factory seal label');
    expect(notice!.text).not.toContain('sales contract and order number');
    expect(mailsTo(h.smtp, CONTACT_EMAIL, `[${number}] Reminder`)).toHaveLength(0);
    // Nothing more can be recorded on a lapsed claim.
    const late = await request(h.app).post(`/goods-claims/${number}/identifiers`).set(as('service_desk')).send({ packingListNumber: 'PL-1' });
    expect(late.status).toBe(409);
    expect(late.body.error.code).toBe('process_closed');
    await saveHistory(number, 'goods-claim-lapsed.binpb');
  }, 60_000);

  test('a device sold by another company is refused naming the seller', async () => {
    await company.addDevice('GC-SN-RESOLD', { sold_by: 'Huadong Systems Integration Ltd' });
    const response = await register({ kind: 'wrong_missing_extra', arrivedOn: shanghaiDate(Date.parse(await virtualNow())), deviceSerials: ['GC-SN-RESOLD'] });
    expect(response.status).toBe(422);
    expect(response.body.error.code).toBe('sold_by_another_company');
    expect(response.body.error.message).toContain('Huadong Systems Integration Ltd');
    expect(response.body.error.message).toContain('whoever sold it is responsible');
    expect(response.body.error.details[0]).toMatchObject({ field: 'deviceSerials.0' });
    const claimed = await h.database.db.selectFrom('goods_claims').select('device_serials').execute();
    expect(claimed.filter((claim) => claim.device_serials.includes('GC-SN-RESOLD'))).toHaveLength(0);
  });

  test('bad input is refused naming the field', async () => {
    await company.addDevice('GC-SN-BAD');
    const claimedAt = await virtualNow();
    const today = shanghaiDate(Date.parse(claimedAt));
    const valid = { kind: 'transport_damage', arrivedOn: today, claimedAt, carriedByUs: true, deviceSerials: ['GC-SN-BAD'] };
    const fieldOf = async (body: Record<string, unknown>) => {
      const response = await register(body);
      return { status: response.status, fields: (response.body.error?.details ?? []).map((d: { field: string }) => d.field) };
    };
    expect(await fieldOf({ ...valid, kind: 'lost_in_space' })).toEqual({ status: 400, fields: ['kind'] });
    expect(await fieldOf({ ...valid, arrivedOn: '2026-13-01' })).toEqual({ status: 400, fields: ['arrivedOn'] });
    expect(await fieldOf({ ...valid, deviceSerials: [] })).toEqual({ status: 400, fields: ['deviceSerials'] });
    expect(await fieldOf({ ...valid, identifiers: { quantity: 0 } })).toEqual({ status: 400, fields: ['identifiers.quantity'] });
    expect(await fieldOf({ ...valid, deviceSerials: ['GC-SN-BAD', 'NOT-OURS'] })).toEqual({ status: 400, fields: ['deviceSerials.1'] });
    expect(await fieldOf({ ...valid, deviceSerials: ['GC-SN-BAD', 'GC-SN-BAD'] })).toEqual({ status: 400, fields: ['deviceSerials.1'] });
    expect(await fieldOf({ ...valid, carriedByUs: undefined })).toEqual({ status: 400, fields: ['carriedByUs'] });
    expect(await fieldOf({ ...valid, carriedByUs: false })).toEqual({ status: 422, fields: ['carriedByUs'] });
    expect(await fieldOf({ ...valid, arrivedOn: addCalendarDays(today, 1) })).toEqual({ status: 400, fields: ['arrivedOn'] });

    const other = await seedServiceCompany(h.database.db, { roles: [], customer: { code: 'CU-OTHER', name: 'Other customer' }, contact: { email: 'other@customer.test' }, product: { code: 'P-OTHER' } });
    expect((await request(h.app).get(`/goods-claims?customerId=${other.customerId}`).set(as('manager'))).body).toMatchObject({ items: [], total: 0 });
    expect((await request(h.app).get(`/goods-claims?customerId=${company.customerId}&status=lapsed`).set(as('manager'))).body.total).toBeGreaterThanOrEqual(1);
    // Each step has its roles, and the document states every route.
    const engineer = await request(h.app).post('/goods-claims').set(bearer(h.tokens.engineer)).send(valid);
    expect(engineer.status).toBe(403);
    const document = (await request(h.app).get('/openapi.json')).body;
    expect(Object.keys(document.paths)).toEqual(
      expect.arrayContaining(['/goods-claims', '/goods-claims/{claimNumber}', '/goods-claims/{claimNumber}/identifiers', '/goods-claims/{claimNumber}/resolution']),
    );
    expect(document.paths['/goods-claims'].post.responses['422']).toBeDefined();
    const listed = await request(h.app).get('/goods-claims?kind=transport_damage&status=credited').set(as('manager'));
    expect(listed.status).toBe(200);
    expect(listed.body.items.map((claim: { status: string; kind: string }) => [claim.kind, claim.status])).toEqual([['transport_damage', 'credited']]);
    expect((await request(h.app).get('/goods-claims?kind=damaged').set(as('manager'))).body.error.details[0].field).toBe('kind');
    const registered = await register(valid);
    const resolution = await request(h.app).post(`/goods-claims/${registered.body.claimNumber}/resolution`).set(as('service_desk')).send({ outcome: 'credit' });
    expect(resolution.status).toBe(400);
    expect(resolution.body.error.details[0].field).toBe('amountCents');
  });
});
