import fs from 'node:fs';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import request from 'supertest';
import { startCaseWorkflow } from '../../api/shared/case-processes';
import { insertCase, nextCaseNumber } from '../../db/repositories/cases';
import { insertRmaRepairCase } from '../../db/repositories/rma-repairs';
import { sparePartWorkflowId } from '../../workflows/spare-part/definitions';
import { rmaRepairWorkflowId, type RmaRepairState } from '../../workflows/rma-repair/definitions';
import { pngImage } from '../support/evidence';
import { seedServiceCompany, type ServiceCompany } from '../support/fixtures';
import { startProcessHarness, type ProcessHarness } from '../support/process-harness';
import { applyForSparePart } from '../support/spare-part';
import { bearer, eventually, linkPathIn, mailsTo, pause, sleepUntil } from '../support/probes';

// RMA repair end to end: real worker, the test server with time skipping, PostgreSQL, SMTP.
// The virtual clock starts on Monday 2026-11-16 09:00 Asia/Shanghai (01:00Z). The customer is 7x24:
// a part received at T is due back T + 24 h; the managers are warned at 75 % (T + 18 h).
const START_TIME = '2026-11-16T01:00:00Z';
const CONTACT = 'lilei@cmcc.test';
const HOUR = 3_600_000;
const after = (iso: string, ms: number) => new Date(Date.parse(iso) + ms).toISOString();

/** Saved with SAVE_WORKFLOW_HISTORIES=1, replayed by replay.test.ts. */
const HISTORIES_DIR = path.join(__dirname, 'histories');
async function saveHistory(h: ProcessHarness, workflowId: string, file: string): Promise<void> {
  if (process.env.SAVE_WORKFLOW_HISTORIES !== '1') return;
  fs.mkdirSync(HISTORIES_DIR, { recursive: true });
  const history = await h.env.client.workflow.getHandle(workflowId).fetchHistory();
  fs.writeFileSync(path.join(HISTORIES_DIR, file), temporal.api.history.v1.History.encode(history).finish());
}

describe('RMA repair', () => {
  let h: ProcessHarness;
  let company: ServiceCompany<never>;
  const as = (role: 'manager' | 'service_desk' | 'engineer') => bearer(h.tokens[role]);
  const virtualNow = async () => new Date(await h.env.currentTimeMs()).toISOString();
  const get = async (number: string) => (await request(h.app).get(`/rma-repairs/${number}`).set(as('service_desk'))).body;
  const open = (parts: { deviceSerial: string; faultDescription: string }[]) =>
    request(h.app).post('/rma-repairs').set(as('service_desk')).send({ customerId: company.customerId, contactId: company.contactId, parts });
  const rmaMails = (number: string) => h.smtp.received.filter((mail) => mail.subject.includes(`[${number}]`));

  beforeAll(async () => {
    h = await startProcessHarness({ startTime: START_TIME });
    await h.startWorker();
    company = await seedServiceCompany(h.database.db, { roles: [], contact: { locale: 'en' } });
  }, 120_000);

  afterAll(async () => {
    await h?.close();
  });

  test('opened by the desk: return address emailed, a wrong serial held and the right part asked for, repaired and replaced, shipped back on time, confirmed on the link page; warranties by the 90-day rule', async () => {
    await company.addDevice('RMA-A1', { warranty_end: '2027-06-30' });
    await company.addDevice('RMA-B1', { warranty_end: null });
    const opened = await open([
      { deviceSerial: 'RMA-A1', faultDescription: 'Port 3 flaps under load' },
      { deviceSerial: 'RMA-B1', faultDescription: 'Does not power on' },
    ]);
    expect(opened.status).toBe(201);
    const number: string = opened.body.caseNumber;
    expect(number).toMatch(/^RMA-2026-\d{6}$/);
    expect(opened.body).toMatchObject({ status: 'awaiting_return', origin: 'desk', internal: false, workflowId: rmaRepairWorkflowId(number), originCase: null, shipBack: null });
    expect(opened.body.parts.map((part: { line: number; deviceSerial: string; status: string }) => [part.line, part.deviceSerial, part.status])).toEqual([
      [1, 'RMA-A1', 'awaiting_receipt'],
      [2, 'RMA-B1', 'awaiting_receipt'],
    ]);

    const [instructions] = await eventually(() => mailsTo(h.smtp, CONTACT, `[${number}] RMA repair opened`), (mails) => mails.length === 1);
    expect(instructions!.text).toContain('fieldops RMA centre');
    expect(instructions!.text).toContain(`Write the RMA number ${number} on the parcel`);
    expect(instructions!.text).toContain('RMA-B1: Does not power on');
    const tasks = await request(h.app).get('/me/tasks').set(as('service_desk'));
    expect(tasks.body.items).toContainEqual(expect.objectContaining({ kind: 'receive_rma_parts', process: 'rma_repair', caseNumber: number, href: `/rma-repairs/${number}` }));

    // The desk keeps a photo of what the customer described; the RMA lists it.
    const uploaded = await request(h.app).post(`/cases/${number}/evidence`).set(as('service_desk')).field('item', 'photo of the failed part').attach('files', await pngImage(90, 64), 'port3.png');
    expect(uploaded.status).toBe(201);
    const evidenceId: string = uploaded.body.files[0].id;
    expect((await get(number)).evidence).toEqual([{ id: evidenceId, fileName: 'port3.png', sniffedType: 'image/png', url: `/evidence/${evidenceId}` }]);

    // The first parcel: line 1 matches, line 2 carries another serial.
    const firstParcelAt = await virtualNow();
    const received = await request(h.app)
      .post(`/rma-repairs/${number}/receipt`)
      .set(as('service_desk'))
      .send({ receivedAt: firstParcelAt, parts: [{ line: 1, receivedSerial: 'RMA-A1' }, { line: 2, receivedSerial: 'RMA-X9', note: 'label scratched' }] });
    expect(received.status).toBe(200);
    expect(received.body.status).toBe('discrepancy');
    expect(received.body.parts[0]).toMatchObject({ status: 'received', receipt: { receivedSerial: 'RMA-A1', serialMatches: true } });
    expect(received.body.parts[1]).toMatchObject({ status: 'discrepancy', receipt: { receivedSerial: 'RMA-X9', serialMatches: false, note: 'label scratched' } });
    expect(received.body.shipBack).toBeNull();
    const heldOutcome = await request(h.app).post(`/rma-repairs/${number}/outcome`).set(as('engineer')).send({ line: 1, outcome: 'repaired', note: 'early' });
    expect(heldOutcome.status).toBe(409);
    expect(heldOutcome.body.error.code).toBe('invalid_transition');

    const resolved = await request(h.app)
      .post(`/rma-repairs/${number}/discrepancy-resolution`)
      .set(as('service_desk'))
      .send({ line: 2, resolution: 'request_right_part', comment: 'This is a power supply from another chassis' });
    expect(resolved.status).toBe(200);
    expect(resolved.body.status).toBe('awaiting_return');
    expect(resolved.body.parts[1]).toMatchObject({ status: 'awaiting_receipt', receipt: null, discrepancy: { resolution: 'request_right_part', comment: 'This is a power supply from another chassis' } });
    const [wrongPart] = await eventually(() => mailsTo(h.smtp, CONTACT, `[${number}] The part we received does not match`), (mails) => mails.length === 1);
    expect(wrongPart!.text).toContain('the part we received has serial RMA-X9');

    await sleepUntil(h.env, after(firstParcelAt, 2 * HOUR));
    const secondParcelAt = await virtualNow();
    const complete = await request(h.app).post(`/rma-repairs/${number}/receipt`).set(as('service_desk')).send({ receivedAt: secondParcelAt, parts: [{ line: 2, receivedSerial: 'RMA-B1' }] });
    expect(complete.status).toBe(200);
    expect(complete.body.status).toBe('in_repair');
    // 7x24: 24 hours from the last part's arrival, computed once.
    expect(complete.body.shipBack).toMatchObject({ slaClass: '7x24', clockStartedAt: secondParcelAt, dueAt: after(secondParcelAt, 24 * HOUR), warnAt: after(secondParcelAt, 18 * HOUR), provisional: false });
    await eventually(() => mailsTo(h.smtp, CONTACT, `[${number}] Your parts have arrived`), (mails) => mails.length === 1);

    expect((await request(h.app).post(`/rma-repairs/${number}/outcome`).set(as('service_desk')).send({ line: 1, outcome: 'repaired', note: 'x' })).status).toBe(403);
    const repaired = await request(h.app).post(`/rma-repairs/${number}/outcome`).set(as('engineer')).send({ line: 1, outcome: 'repaired', note: 'Replaced the PHY chip' });
    expect(repaired.status).toBe(200);
    expect(repaired.body.status).toBe('in_repair');
    const replaced = await request(h.app).post(`/rma-repairs/${number}/outcome`).set(as('engineer')).send({ line: 2, outcome: 'replaced', note: 'Board burnt, not repairable' });
    expect(replaced.status).toBe(200);
    expect(replaced.body.status).toBe('awaiting_shipment');

    const missingSerial = await request(h.app).post(`/rma-repairs/${number}/shipment`).set(as('service_desk')).send({ carrier: 'SF Express', trackingNumber: 'SF1001' });
    expect(missingSerial.status).toBe(422);
    expect(missingSerial.body.error.details).toEqual({ field: 'replacements' });
    const ownSerial = await request(h.app).post(`/rma-repairs/${number}/shipment`).set(as('service_desk')).send({ carrier: 'SF Express', trackingNumber: 'SF1001', replacements: [{ line: 2, newSerial: 'RMA-A1' }] });
    expect(ownSerial.status).toBe(422);
    expect(ownSerial.body.error.details).toEqual({ field: 'replacements.0.newSerial' });
    const repairedLine = await request(h.app).post(`/rma-repairs/${number}/shipment`).set(as('service_desk')).send({ carrier: 'SF Express', trackingNumber: 'SF1001', replacements: [{ line: 1, newSerial: 'RMA-A1-NEW' }] });
    expect(repairedLine.body.error.details).toEqual({ field: 'replacements.0.line' });

    await sleepUntil(h.env, after(secondParcelAt, 6 * HOUR));
    const shippedAt = await virtualNow();
    const shipped = await request(h.app)
      .post(`/rma-repairs/${number}/shipment`)
      .set(as('service_desk'))
      .send({ carrier: 'SF Express', trackingNumber: 'SF1001', shippedAt, replacements: [{ line: 2, newSerial: 'RMA-B1-NEW' }] });
    expect(shipped.status).toBe(200);
    expect(shipped.body.status).toBe('shipped');
    expect(shipped.body.shipment).toMatchObject({ carrier: 'SF Express', trackingNumber: 'SF1001', shippedAt, late: false });
    // Shipped 2026-11-16: 90 days end 2027-02-14. Line 1's own warranty runs longer; line 2 had none.
    expect(shipped.body.parts[0]).toMatchObject({ replacementSerial: null, warrantyEnd: '2027-06-30', warrantyBasis: 'rest_of_original_warranty' });
    expect(shipped.body.parts[1]).toMatchObject({ replacementSerial: 'RMA-B1-NEW', warrantyEnd: '2027-02-14', warrantyBasis: 'ninety_days_from_shipping' });
    const devices = await h.database.db.selectFrom('devices').select(['serial', 'warranty_end', 'customer_id']).where('serial', 'in', ['RMA-A1', 'RMA-B1-NEW']).orderBy('serial').execute();
    expect(devices).toEqual([
      { serial: 'RMA-A1', warranty_end: '2027-06-30', customer_id: company.customerId },
      { serial: 'RMA-B1-NEW', warranty_end: '2027-02-14', customer_id: company.customerId },
    ]);

    const [shipmentMail] = await eventually(() => mailsTo(h.smtp, CONTACT, `[${number}] Your parts are on their way back`), (mails) => mails.length === 1);
    expect(shipmentMail!.text).toContain('RMA-B1: replaced by a new part RMA-B1-NEW, under warranty until 2027-02-14');
    const link = linkPathIn(shipmentMail!)!;
    const page = await request(h.app).get(link).set('Accept', 'text/html');
    expect(page.status).toBe(200);
    expect(page.text).toContain(number);
    expect(page.text).toContain('RMA-B1-NEW');
    const confirmed = await request(h.app).post(link).send({ note: null });
    expect(confirmed.status).toBe(200);
    expect(confirmed.body).toMatchObject({ caseNumber: number, status: 'closed' });
    expect((await request(h.app).post(link).send({})).status).toBe(410);

    const result: RmaRepairState = await h.env.client.workflow.getHandle(rmaRepairWorkflowId(number)).result();
    expect(result).toMatchObject({ status: 'closed', shippedLate: false, dueWarnedAt: null, dueMissedAt: null, deliveryChasedAt: null });
    const closed = await get(number);
    expect(closed).toMatchObject({ status: 'closed', delivery: { confirmedBy: 'customer contact (customer)' } });
    expect(closed.closedAt).not.toBeNull();
    expect(closed.timeline.map((event: { action: string }) => event.action)).toEqual([
      'rma_repair.opened',
      'rma_repair.return_instructions_sent',
      'evidence.uploaded',
      'rma_repair.received_with_discrepancy',
      'rma_repair.right_part_requested',
      'rma_repair.received',
      'rma_repair.part_repaired',
      'rma_repair.part_replaced',
      'rma_repair.shipped',
      'rma_repair.delivery_confirmed',
    ]);
    // Every email of the case went out once; the managers heard nothing of a ship-back made in time.
    const outbox = await h.database.db.selectFrom('email_outbox').select(['idempotency_key', 'recipient']).where('idempotency_key', 'like', `rma-repair/${number}/%`).execute();
    const keys = outbox.map((row) => row.idempotency_key.slice(`rma-repair/${number}/`.length)).sort();
    expect(keys).toEqual(['opened', 'received', expect.stringMatching(/^right-part-requested\/2\/\d+$/), 'shipped']);
    expect(outbox.every((row) => row.recipient === CONTACT)).toBe(true);
    await saveHistory(h, rmaRepairWorkflowId(number), 'rma-repair-desk-closed.binpb');
  });

  test('shipped back late: the managers are warned at 75 % of the promise and told once when it is missed; the shipment is marked late', async () => {
    await company.addDevice('RMA-LATE');
    const opened = await open([{ deviceSerial: 'RMA-LATE', faultDescription: 'Fan alarm' }]);
    expect(opened.status).toBe(201);
    const number: string = opened.body.caseNumber;
    const receivedAt = await virtualNow();
    // The label shows another serial; the desk checks the chassis and accepts the part as the one sent for repair.
    expect((await request(h.app).post(`/rma-repairs/${number}/receipt`).set(as('service_desk')).send({ receivedAt, parts: [{ line: 1, receivedSerial: 'RMA-LATE-LABEL' }] })).body.status).toBe('discrepancy');
    expect((await request(h.app).get('/me/tasks').set(as('service_desk'))).body.items).toContainEqual(expect.objectContaining({ kind: 'resolve_rma_discrepancy', caseNumber: number }));
    const accepted = await request(h.app)
      .post(`/rma-repairs/${number}/discrepancy-resolution`)
      .set(as('service_desk'))
      .send({ line: 1, resolution: 'accept_as_received', comment: 'Relabelled by the customer; chassis serial is RMA-LATE' });
    expect(accepted.status).toBe(200);
    expect(accepted.body.status).toBe('in_repair');
    expect(accepted.body.parts[0]).toMatchObject({ status: 'received', receipt: { receivedSerial: 'RMA-LATE-LABEL', serialMatches: false }, discrepancy: { resolution: 'accept_as_received' } });
    // The clock runs from the part's arrival, not from the desk's decision.
    expect(accepted.body.shipBack).toMatchObject({ clockStartedAt: receivedAt, dueAt: after(receivedAt, 24 * HOUR) });
    expect((await request(h.app).post(`/rma-repairs/${number}/outcome`).set(as('engineer')).send({ line: 1, outcome: 'repaired', note: 'New fan tray' })).status).toBe(200);
    const dueAt = after(receivedAt, 24 * HOUR);

    const warnings = () => mailsTo(h.smtp, 'manager@fieldops.test', `[${number}] 返修件寄回期限临近`);
    const missed = () => mailsTo(h.smtp, 'manager@fieldops.test', `[${number}] 返修件寄回逾期`);
    await sleepUntil(h.env, after(receivedAt, 18 * HOUR - 60_000));
    await pause(500);
    expect(warnings()).toHaveLength(0);
    await sleepUntil(h.env, after(receivedAt, 18 * HOUR + 1_000));
    await eventually(warnings, (mails) => mails.length === 1);
    expect(missed()).toHaveLength(0);
    await sleepUntil(h.env, after(dueAt, 1_000));
    const [notice] = await eventually(missed, (mails) => mails.length === 1);
    // Managers read Chinese: the case, the customer and the deadline, in China time.
    expect(notice!.text).toContain(`RMA ${number}（Shanghai Mobile）的部件未能在服务等级期限`);
    await eventually(() => get(number), (body) => body.shipBack?.missedAt !== null && body.shipBack?.warnedAt !== null);

    await sleepUntil(h.env, after(dueAt, HOUR));
    const shippedAt = await virtualNow();
    const shipped = await request(h.app).post(`/rma-repairs/${number}/shipment`).set(as('service_desk')).send({ carrier: 'EMS', trackingNumber: 'EMS42', shippedAt });
    expect(shipped.status).toBe(200);
    expect(shipped.body.shipment).toMatchObject({ late: true });
    expect(shipped.body.timeline.map((event: { action: string }) => event.action)).toEqual(
      expect.arrayContaining(['rma_repair.ship_back_due_soon', 'rma_repair.ship_back_missed', 'rma_repair.shipped_late']),
    );
    await pause(1_000);
    expect(missed()).toHaveLength(1);
    expect(warnings()).toHaveLength(1);

    // Not confirmed: the customer is reminded once, at the end of the 3rd working day after shipping, with a fresh link.
    const chaseAt: string = shipped.body.delivery.chaseAt;
    await sleepUntil(h.env, after(chaseAt, 1_000));
    const [reminder] = await eventually(() => mailsTo(h.smtp, CONTACT, `[${number}] Please confirm receipt of your parts`), (mails) => mails.length === 1);
    const confirmed = await request(h.app).post(linkPathIn(reminder!)!).send({});
    expect(confirmed.status).toBe(200);
    expect(confirmed.body.status).toBe('closed');
  });

  test('a spare-part return opens an internal RMA linked to the loan, repaired back into stock without a customer email', async () => {
    await company.addDevice('RMA-SP1');
    const applied = await applyForSparePart(h, company, 'RMA-SP1', { faultDescription: 'Line card reboots' });
    expect(applied.status).toBe(201);
    const loanNumber: string = applied.body.loanNumber;
    expect((await request(h.app).post(`/spare-parts/${loanNumber}/approve`).set(as('manager')).send({})).status).toBe(200);
    expect((await request(h.app).post(`/spare-parts/${loanNumber}/shipment`).set(as('service_desk')).send({ replacementSerial: 'RMA-SP1-R', carrier: 'SF Express', trackingNumber: 'SF77' })).status).toBe(200);
    expect((await request(h.app).post(`/spare-parts/${loanNumber}/receipt`).set(as('service_desk')).send({ receivedAt: await virtualNow() })).status).toBe(200);
    const returned = await request(h.app).post(`/spare-parts/${loanNumber}/return`).set(as('service_desk')).send({ returnedSerial: 'RMA-SP1', faultTagPresent: true, receivedAt: await virtualNow() });
    expect(returned.status).toBe(200);

    const list = await request(h.app).get('/rma-repairs').query({ origin: 'spare_part_return', customerId: company.customerId }).set(as('engineer'));
    expect(list.status).toBe(200);
    expect(list.body.total).toBe(1);
    const rma = list.body.items[0];
    expect(rma).toMatchObject({ origin: 'spare_part_return', internal: true, status: 'in_stock_repair', contactId: null, originCase: { kind: 'spare_part', number: loanNumber } });
    expect(rma.parts).toEqual([expect.objectContaining({ line: 1, deviceSerial: 'RMA-SP1', faultDescription: 'Line card reboots', status: 'received' })]);
    const number: string = rma.caseNumber;
    // The loan's workflow started the RMA's; its return record has the same source as before the RMA process.
    const started = await eventually(
      () => h.env.client.workflow.getHandle(rmaRepairWorkflowId(number)).query<RmaRepairState>('rmaRepairState').catch(() => null),
      (state) => state?.internal === true,
    );
    expect(started!.status).toBe('in_stock_repair');
    expect(await h.database.db.selectFrom('rma_repairs').select('case_number').where('source_ref', '=', `${loanNumber}/returned-part`).execute()).toEqual([{ case_number: number }]);
    // A customer's outcome does not fit a part for stock.
    const replaced = await request(h.app).post(`/rma-repairs/${number}/outcome`).set(as('engineer')).send({ line: 1, outcome: 'replaced', note: 'x' });
    expect(replaced.status).toBe(422);
    expect(replaced.body.error.details).toEqual({ field: 'outcome' });

    const restocked = await request(h.app).post(`/rma-repairs/${number}/outcome`).set(as('engineer')).send({ line: 1, outcome: 'repaired', note: 'Reflowed the CPU, 24 h burn-in passed' });
    expect(restocked.status).toBe(200);
    expect(restocked.body.status).toBe('restocked');
    expect(restocked.body.closedAt).not.toBeNull();
    const result: RmaRepairState = await h.env.client.workflow.getHandle(rmaRepairWorkflowId(number)).result();
    expect(result.status).toBe('restocked');
    expect(await h.database.db.selectFrom('email_outbox').select('idempotency_key').where('idempotency_key', 'like', `rma-repair/${number}/%`).execute()).toEqual([]);
    expect(rmaMails(number)).toEqual([]);
    expect((await h.database.db.selectFrom('cases').select(['status', 'closed_at']).where('number', '=', number).executeTakeFirstOrThrow()).status).toBe('restocked');
    await saveHistory(h, sparePartWorkflowId(loanNumber), 'spare-part-returned-internal-rma.binpb');
  });

  test('an RMA from a converted DOA claim: opened once per claim through insertRmaRepairCase (a retried step gets the same RMA), linked to the claim, through to the delivery the desk records', async () => {
    const db = h.database.db;
    const device = await company.addDevice('RMA-DOA1');
    const openedAt = new Date(await virtualNow());
    const claimCaseId = await insertCase(db, { kind: 'doa_claim', number: 'DOA-2026-900001', status: 'conversion_offered', customerId: company.customerId, deviceId: device.id, workflowId: 'doa/DOA-2026-900001', at: openedAt });
    const convert = async () =>
      db.transaction().execute(async (trx) =>
        insertRmaRepairCase(trx, await nextCaseNumber(db, 'RMA', 2026), {
          origin: 'doa_conversion',
          customerId: company.customerId,
          contactId: company.contactId,
          originCaseId: claimCaseId,
          parts: [{ deviceId: device.id, faultDescription: 'Fails 60 h after first power-on' }],
          openedBy: 'Li Lei',
          openedByRole: 'customer',
          openedAt,
        }),
      );
    const first = await convert();
    expect(await convert()).toEqual(first);
    expect(first.workflowId).toBe(rmaRepairWorkflowId(first.caseNumber));
    expect(await startCaseWorkflow(h.env.client, { taskQueue: h.taskQueue, workflowType: 'rmaRepairWorkflow', workflowId: first.workflowId, input: { caseId: first.caseId, caseNumber: first.caseNumber } })).toBe('started');
    const number = first.caseNumber;

    const rma = await get(number);
    expect(rma).toMatchObject({ status: 'awaiting_return', origin: 'doa_conversion', internal: false, originCase: { id: claimCaseId, kind: 'doa_claim', number: 'DOA-2026-900001' }, opened: { by: 'Li Lei', role: 'customer' } });
    const listed = await request(h.app).get('/rma-repairs').query({ origin: 'doa_conversion' }).set(as('manager'));
    expect(listed.body.items.map((item: { caseNumber: string }) => item.caseNumber)).toEqual([number]);
    await eventually(() => mailsTo(h.smtp, CONTACT, `[${number}] RMA repair opened`), (mails) => mails.length === 1);

    const receivedAt = await virtualNow();
    expect((await request(h.app).post(`/rma-repairs/${number}/receipt`).set(as('service_desk')).send({ receivedAt, parts: [{ line: 1, receivedSerial: 'RMA-DOA1' }] })).body.status).toBe('in_repair');
    expect((await request(h.app).post(`/rma-repairs/${number}/outcome`).set(as('engineer')).send({ line: 1, outcome: 'repaired', note: 'Reseated the DIMMs' })).body.status).toBe('awaiting_shipment');
    expect((await request(h.app).post(`/rma-repairs/${number}/shipment`).set(as('service_desk')).send({ carrier: 'SF Express', trackingNumber: 'SF2002', shippedAt: after(receivedAt, HOUR) })).body.status).toBe('shipped');
    const delivered = await request(h.app).post(`/rma-repairs/${number}/delivery-confirmation`).set(as('service_desk')).send({ note: "Carrier's proof of delivery signed by Li Lei" });
    expect(delivered.status).toBe(200);
    expect(delivered.body).toMatchObject({ status: 'closed', delivery: { confirmedBy: 'service_desk user (service_desk)', note: "Carrier's proof of delivery signed by Li Lei" } });
    expect((await h.env.client.workflow.getHandle(first.workflowId).result()).status).toBe('closed');
    expect(await db.selectFrom('rma_repairs').select('case_number').where('origin_case_id', '=', claimCaseId).execute()).toEqual([{ case_number: number }]);
  });

  test('bad input is refused naming the field', async () => {
    await company.addDevice('RMA-OK1');
    const other = await seedServiceCompany(h.database.db, { roles: [], customer: { code: 'OTHER', name: 'Other Co' }, contact: { email: 'other@other.test' }, product: { code: 'OTHER-P' } });
    await other.addDevice('RMA-ELSEWHERE');

    const elsewhere = await open([
      { deviceSerial: 'RMA-OK1', faultDescription: 'Dead' },
      { deviceSerial: 'RMA-ELSEWHERE', faultDescription: 'Dead' },
    ]);
    expect(elsewhere.status).toBe(400);
    expect(elsewhere.body.error.code).toBe('validation_failed');
    expect(elsewhere.body.error.details).toEqual([{ in: 'body', field: 'parts.1.deviceSerial', message: "no device RMA-ELSEWHERE in this customer's installed base" }]);

    const noFault = await open([{ deviceSerial: 'RMA-OK1', faultDescription: '  ' }]);
    expect(noFault.status).toBe(400);
    expect(noFault.body.error.details.map((detail: { field: string }) => detail.field)).toEqual(['parts.0.faultDescription']);

    expect((await open([])).body.error.details.map((detail: { field: string }) => detail.field)).toEqual(['parts']);
    const twice = await open([
      { deviceSerial: 'RMA-OK1', faultDescription: 'Dead' },
      { deviceSerial: 'RMA-OK1', faultDescription: 'Dead again' },
    ]);
    expect(twice.body.error.details).toEqual([{ in: 'body', field: 'parts.1.deviceSerial', message: 'RMA-OK1 is already part 1 of this RMA' }]);
    const otherContact = await request(h.app).post('/rma-repairs').set(as('service_desk')).send({ customerId: company.customerId, contactId: other.contactId, parts: [{ deviceSerial: 'RMA-OK1', faultDescription: 'Dead' }] });
    expect(otherContact.body.error.details.map((detail: { field: string }) => detail.field)).toEqual(['contactId']);
    expect((await request(h.app).post('/rma-repairs').set(as('engineer')).send({})).status).toBe(403);

    const opened = await open([{ deviceSerial: 'RMA-OK1', faultDescription: 'Dead' }]);
    expect(opened.status).toBe(201);
    const number: string = opened.body.caseNumber;
    const again = await open([{ deviceSerial: 'RMA-OK1', faultDescription: 'Dead' }]);
    expect(again.body.error.details).toEqual([{ in: 'body', field: 'parts.0.deviceSerial', message: `RMA-OK1 is already in open RMA ${number}` }]);

    const duplicateLine = await request(h.app).post(`/rma-repairs/${number}/receipt`).set(as('service_desk')).send({ parts: [{ line: 1, receivedSerial: 'RMA-OK1' }, { line: 1, receivedSerial: 'RMA-OK1' }] });
    expect(duplicateLine.status).toBe(400);
    expect(duplicateLine.body.error.details.map((detail: { field: string }) => detail.field)).toEqual(['parts.1.line']);
    const unknownLine = await request(h.app).post(`/rma-repairs/${number}/receipt`).set(as('service_desk')).send({ parts: [{ line: 2, receivedSerial: 'RMA-OK1' }] });
    expect(unknownLine.status).toBe(422);
    expect(unknownLine.body.error.details).toEqual({ field: 'parts.0.line' });
    const future = await request(h.app).post(`/rma-repairs/${number}/receipt`).set(as('service_desk')).send({ receivedAt: '2099-01-01T00:00:00+08:00', parts: [{ line: 1, receivedSerial: 'RMA-OK1' }] });
    expect(future.body.error.details).toEqual([{ in: 'body', field: 'receivedAt', message: 'is in the future' }]);
    expect((await request(h.app).get('/rma-repairs/RMA-2026-99').set(as('engineer'))).status).toBe(400);
    expect((await request(h.app).get('/rma-repairs/RMA-2026-999999').set(as('engineer'))).status).toBe(404);
    expect((await request(h.app).get('/rma-repairs').query({ origin: 'mail' }).set(as('engineer'))).body.error.details.map((detail: { field: string }) => detail.field)).toEqual(['origin']);
    // Nothing of it reached the case: still waiting for the part.
    expect((await get(number)).status).toBe('awaiting_return');
  });
});
