import fs from 'node:fs';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import request from 'supertest';
import { doaClaimWorkflowId } from '../../workflows/doa-claim/definitions';
import { seedServiceCompany, type ServiceCompany } from '../support/fixtures';
import { startProcessHarness, type ProcessHarness } from '../support/process-harness';
import { bearer, eventually, linkPathIn, mailsTo, sleepUntil } from '../support/probes';

// DOA claims end to end on the full harness: the production worker and workflows on the
// time-skipping test server, PostgreSQL, SMTP. The virtual clock starts now, as the API's does.

const CONTACT_EMAIL = 'lilei@cmcc.test';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const ago = (ms: number) => new Date(Date.now() - ms).toISOString();
/** A date in China, `days` ago. */
const chinaDateAgo = (days: number) => new Date(Date.now() + 8 * HOUR - days * DAY).toISOString().slice(0, 10);

/** Every condition as the desk finds it on good evidence. */
const ALL_GOOD = {
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

describe('DOA claims', () => {
  let h: ProcessHarness;
  let company: ServiceCompany<never>;
  const desk = () => bearer(h.tokens.service_desk);
  const manager = () => bearer(h.tokens.manager);

  beforeAll(async () => {
    h = await startProcessHarness();
    await h.startWorker();
    company = await seedServiceCompany(h.database.db, { roles: [], contact: { locale: 'en' } });
  }, 120_000);
  afterAll(async () => {
    await h?.close();
  });

  /** With SAVE_WORKFLOW_HISTORIES=1, saves a claim's finished history for test/doa-claim/replay.test.ts. */
  async function saveHistory(number: string, file: string) {
    if (process.env.SAVE_WORKFLOW_HISTORIES !== '1') return;
    const handle = h.env.client.workflow.getHandle(doaClaimWorkflowId(number));
    await handle.result();
    fs.mkdirSync(path.join(__dirname, 'histories'), { recursive: true });
    fs.writeFileSync(path.join(__dirname, 'histories', file), temporal.api.history.v1.History.encode(await handle.fetchHistory()).finish());
  }

  /** Registers a claim for a new device whose unit failed `hoursAfterPowerOn` after its first power-on. */
  async function apply(serial: string, hoursAfterPowerOn: number, deviceOverrides: { sold_by?: string } = {}) {
    await company.addDevice(serial, deviceOverrides);
    const firstPowerOnAt = ago(3 * DAY);
    return request(h.app)
      .post('/doa-claims')
      .set(desk())
      .send({
        customerId: company.customerId,
        contactId: company.contactId,
        deviceSerial: serial,
        arrivedOn: chinaDateAgo(4),
        firstPowerOnAt,
        failedAt: new Date(Date.parse(firstPowerOnAt) + hoursAfterPowerOn * HOUR).toISOString(),
        symptoms: 'No output on any port; the power LED blinks red',
      });
  }

  async function assess(number: string, findings: Record<string, unknown>) {
    const checked = await request(h.app).post(`/doa-claims/${number}/conditions`).set(desk()).send({ findings, note: 'from the photos uploaded by the customer' });
    expect(checked.status).toBe(200);
    return request(h.app).post(`/doa-claims/${number}/decision`).set(desk()).send({ comment: null });
  }

  test('accepted end to end: evidence link, every condition checked by the desk, manager approves a new unit, shipped, the customer confirms receipt, the DOA unit comes back -> closed', async () => {
    const registered = await apply('DOA-SN-0001', 5);
    expect(registered.status).toBe(201);
    const number: string = registered.body.caseNumber;
    expect(number).toMatch(/^DOA-\d{4}-\d{6}$/);
    expect(registered.body).toMatchObject({ status: 'assessment', waitingFor: ['service_desk'], appliedByEndUser: true, hoursFromPowerOnToFailure: 5 });
    expect(registered.body.uncheckedConditions).toHaveLength(11);

    const [ack] = await eventually(() => mailsTo(h.smtp, CONTACT_EMAIL, `[${number}] DOA claim received`), (mails) => mails.length === 1);
    expect(ack!.text).toContain('photos of all six sides of the original packaging');
    expect(linkPathIn(ack!)).toBeDefined();

    // A decision before every condition is checked is refused, naming what is left.
    const partial = await request(h.app).post(`/doa-claims/${number}/conditions`).set(desk()).send({ findings: { applicationFormProvided: true, photosProvided: true } });
    expect(partial.status).toBe(200);
    expect(partial.body.conditions.find((c: { condition: string }) => c.condition === 'photosProvided')).toMatchObject({ value: true, checkedByRole: 'service_desk' });
    const early = await request(h.app).post(`/doa-claims/${number}/decision`).set(desk()).send({});
    expect(early.status).toBe(422);
    expect(early.body.error.message).toContain('sealsUnbroken');

    const decided = await assess(number, ALL_GOOD);
    expect(decided.status).toBe(200);
    expect(decided.body).toMatchObject({ status: 'replacement_approval', waitingFor: ['manager'], decision: { outcome: 'accepted', failedConditions: [] } });
    await eventually(() => mailsTo(h.smtp, CONTACT_EMAIL, `[${number}] DOA claim accepted`), (mails) => mails.length === 1);
    await eventually(() => h.smtp.received.filter((mail) => mail.subject === `[${number}] DOA 已受理，请审批更换新设备`), (mails) => mails.length === 1);

    const managerTasks = (await request(h.app).get('/me/tasks').set(manager())).body.items as { kind: string; caseNumber: string }[];
    expect(managerTasks).toContainEqual(expect.objectContaining({ kind: 'approve_doa_replacement', caseNumber: number }));
    const deskTasks = (await request(h.app).get('/me/tasks').set(desk())).body.items as { kind: string; caseNumber: string }[];
    expect(deskTasks.filter((task) => task.caseNumber === number)).toEqual([]);

    // Only the manager approves; the desk may not.
    expect((await request(h.app).post(`/doa-claims/${number}/replacement-approval`).set(desk()).send({ approved: true })).status).toBe(403);
    const approved = await request(h.app).post(`/doa-claims/${number}/replacement-approval`).set(manager()).send({ approved: true, comment: 'new unit from stock' });
    expect(approved.body).toMatchObject({ status: 'replacement_shipping', replacement: { approvedBy: expect.any(String) } });

    const taken = await request(h.app).post(`/doa-claims/${number}/shipment`).set(desk()).send({ newSerial: 'DOA-SN-0001', carrier: 'SF Express', trackingNumber: 'SF1000' });
    expect(taken.status).toBe(422);
    expect(taken.body.error.details[0]).toMatchObject({ field: 'newSerial' });
    const shipped = await request(h.app).post(`/doa-claims/${number}/shipment`).set(desk()).send({ newSerial: 'DOA-NEW-0001', carrier: 'SF Express', trackingNumber: 'SF1001' });
    expect(shipped.body).toMatchObject({ status: 'replacement_delivery', replacement: { serial: 'DOA-NEW-0001', trackingNumber: 'SF1001' } });
    // The new unit's warranty: the rest of the original (2027-03-31) when that is longer than 90 days from shipping.
    const warrantyEnd: string = shipped.body.replacement.warrantyEnd;
    const ninetyDays = new Date(Date.parse(`${chinaDateAgo(0)}T00:00:00Z`) + 90 * DAY).toISOString().slice(0, 10);
    expect(warrantyEnd).toBe(ninetyDays > '2027-03-31' ? ninetyDays : '2027-03-31');

    const [shipMail] = await eventually(() => mailsTo(h.smtp, CONTACT_EMAIL, `[${number}] Your new unit has shipped`), (mails) => mails.length === 1);
    expect(shipMail!.text).toContain('fieldops RMA centre');
    const receiptLink = linkPathIn(shipMail!)!;

    // The DOA unit comes back first: a wrong serial is refused, naming the field.
    const wrong = await request(h.app).post(`/doa-claims/${number}/unit-return`).set(desk()).send({ receivedSerial: 'SOMETHING-ELSE' });
    expect(wrong.status).toBe(422);
    expect(wrong.body.error.details[0]).toMatchObject({ field: 'receivedSerial' });
    const back = await request(h.app).post(`/doa-claims/${number}/unit-return`).set(desk()).send({ receivedSerial: 'DOA-SN-0001', note: 'complete, in its box' });
    expect(back.body).toMatchObject({ status: 'replacement_delivery', unitReturn: { note: 'complete, in its box' } });

    const confirmed = await request(h.app).post(receiptLink).send({});
    expect(confirmed.status).toBe(200);
    expect(confirmed.body).toMatchObject({ status: 'closed', warrantyEnd });
    // Single use: the same link again is gone.
    expect((await request(h.app).post(receiptLink).send({})).status).toBe(410);

    const device = await h.database.db.selectFrom('devices').selectAll().where('serial', '=', 'DOA-NEW-0001').executeTakeFirstOrThrow();
    expect(device).toMatchObject({ customer_id: company.customerId, product_id: company.productId, warranty_end: warrantyEnd, sold_by: null });
    const closed = await request(h.app).get(`/doa-claims/${number}`).set(desk());
    expect(closed.body).toMatchObject({ status: 'closed', waitingFor: [], replacement: { deviceId: device.id, receivedAt: expect.any(String) } });
    expect(closed.body.timeline.map((event: { action: string }) => event.action)).toEqual([
      'doa_claim.applied',
      'doa_claim.conditions_checked',
      'doa_claim.conditions_checked',
      'doa_claim.accepted',
      'doa_claim.replacement_approved',
      'doa_claim.replacement_shipped',
      'doa_claim.unit_returned',
      'doa_claim.replacement_received',
    ]);
    const caseRow = await h.database.db.selectFrom('cases').select(['status', 'closed_at']).where('number', '=', number).executeTakeFirstOrThrow();
    expect(caseRow.status).toBe('closed');
    expect(caseRow.closed_at).not.toBeNull();
    await saveHistory(number, 'doa-claim-accepted-closed.binpb');
  });

  test('rejected with every failed condition listed (three), the customer converts it to an RMA repair on the link: the RMA opens linked to the claim', async () => {
    const number: string = (await apply('DOA-SN-0002', 2)).body.caseNumber;
    const decided = await assess(number, { ...ALL_GOOD, packagingDefects: ['damp', 'dented'], sealsUnbroken: false, accessoriesCompleteAgainstPackingList: false });
    expect(decided.body.status).toBe('conversion_offered');
    expect(decided.body.decision.failedConditions.map((c: { code: string }) => c.code)).toEqual(['packaging_damaged', 'accessories_incomplete', 'seals_broken']);
    expect(decided.body.conversion.offerEndsAt).toBeDefined();

    const [rejection] = await eventually(() => mailsTo(h.smtp, CONTACT_EMAIL, `[${number}] DOA claim not accepted`), (mails) => mails.length === 1);
    expect(rejection!.text).toContain('1. the original box is not intact (damp, dented)');
    expect(rejection!.text).toContain('2. accessories are incomplete against the packing list');
    expect(rejection!.text).toContain('3. seals on the unit have been opened');
    const convertLink = linkPathIn(rejection!)!;

    const converted = await request(h.app).post(convertLink).send({ accept: true });
    expect(converted.status).toBe(200);
    expect(converted.body).toMatchObject({ status: 'converted', rmaCaseNumber: expect.stringMatching(/^RMA-\d{4}-\d{6}$/) });
    const rmaNumber: string = converted.body.rmaCaseNumber;
    const claim = (await request(h.app).get(`/doa-claims/${number}`).set(desk())).body;
    expect(claim).toMatchObject({ status: 'converted', conversion: { answer: 'accepted', rmaCaseNumber: rmaNumber } });
    const rma = await h.database.db
      .selectFrom('cases as c')
      .innerJoin('rma_repairs as r', 'r.case_id', 'c.id')
      .select(['c.kind', 'c.workflow_id', 'r.origin', 'r.origin_case_id'])
      .where('c.number', '=', rmaNumber)
      .executeTakeFirstOrThrow();
    expect(rma).toMatchObject({ kind: 'rma_repair', workflow_id: `rma/${rmaNumber}`, origin: 'doa_conversion', origin_case_id: claim.caseId });
    // The RMA's own workflow runs on (the claim's ended): it emails the customer where to send the unit.
    await eventually(async () => (await h.env.client.workflow.getHandle(`rma/${rmaNumber}`).describe()).status.name, (status) => status === 'RUNNING');
    await saveHistory(number, 'doa-claim-rejected-converted.binpb');
  });

  test('48-hour window: failed 47 h 59 min after first power-on is accepted, 48 h 01 min is rejected naming the window', async () => {
    const inside = (await apply('DOA-SN-0003', 47 + 59 / 60)).body.caseNumber;
    const outside = (await apply('DOA-SN-0004', 48 + 1 / 60)).body.caseNumber;
    const accepted = await assess(inside, ALL_GOOD);
    expect(accepted.body.decision).toMatchObject({ outcome: 'accepted', failedConditions: [] });
    const rejected = await assess(outside, ALL_GOOD);
    expect(rejected.body.decision.outcome).toBe('rejected');
    expect(rejected.body.decision.failedConditions).toEqual([expect.objectContaining({ code: 'not_within_48h_of_power_on', en: expect.stringContaining('48 h') })]);
  });

  test('a device our company did not sell is refused, naming the seller; bad input names the field', async () => {
    const refused = await apply('DOA-SN-0005', 1, { sold_by: 'Huaxin Distribution Co.' });
    expect(refused.status).toBe(422);
    expect(refused.body.error.code).toBe('sold_by_another_company');
    expect(refused.body.error.message).toContain('Huaxin Distribution Co.');
    expect(refused.body.error.details[0]).toMatchObject({ field: 'deviceSerial', message: expect.stringContaining('Huaxin Distribution Co.') });
    expect(await h.database.db.selectFrom('cases as c').innerJoin('devices as d', 'd.id', 'c.device_id').select('c.id').where('d.serial', '=', 'DOA-SN-0005').execute()).toHaveLength(0);

    const bad = await request(h.app)
      .post('/doa-claims')
      .set(desk())
      .send({ customerId: company.customerId, contactId: company.contactId, deviceSerial: 'NOT-IN-BASE', arrivedOn: '2026-13-01', firstPowerOnAt: 'yesterday', failedAt: ago(HOUR), symptoms: '' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.map((d: { field: string }) => d.field).sort()).toEqual(['arrivedOn', 'firstPowerOnAt', 'symptoms']);
    const notInBase = await request(h.app)
      .post('/doa-claims')
      .set(desk())
      .send({ customerId: company.customerId, contactId: company.contactId, deviceSerial: 'NOT-IN-BASE', arrivedOn: chinaDateAgo(2), firstPowerOnAt: ago(DAY), failedAt: ago(HOUR), symptoms: 'dead' });
    expect(notInBase.status).toBe(400);
    expect(notInBase.body.error.details[0]).toMatchObject({ field: 'deviceSerial' });
  });

  test('an offer of an RMA repair left unanswered lapses after 30 days: the claim closes and the customer is told once', async () => {
    const number: string = (await apply('DOA-SN-0007', 1)).body.caseNumber;
    const decided = await assess(number, { ...ALL_GOOD, isTestProductOrSample: true });
    expect(decided.body.decision.failedConditions.map((c: { code: string }) => c.code)).toEqual(['test_product_or_sample']);
    await sleepUntil(h.env, new Date(Date.parse(decided.body.conversion.offerEndsAt) + HOUR).toISOString());
    const closed = await eventually(async () => (await request(h.app).get(`/doa-claims/${number}`).set(desk())).body, (claim) => claim.status === 'closed');
    expect(closed.conversion).toMatchObject({ answer: 'lapsed' });
    await eventually(() => mailsTo(h.smtp, CONTACT_EMAIL, `[${number}] The offer of an RMA repair expired`), (mails) => mails.length === 1);
    const [rejection] = mailsTo(h.smtp, CONTACT_EMAIL, `[${number}] DOA claim not accepted`);
    expect((await request(h.app).post(linkPathIn(rejection!)!).send({ accept: true })).status).toBe(409);
  });
});
