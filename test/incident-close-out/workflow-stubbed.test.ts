import { incidentCloseOutStateQuery, recordIncidentFollowUpUpdate, submitIncidentSummaryReportUpdate, type CloseOutDeadlines } from '../../workflows/incident-close-out/definitions';
import { incidentCloseOutWorkflow } from '../../workflows/incident-close-out/workflow';
import { decideDocumentUpdate, signOffWorkflowId, submitDocumentVersionUpdate } from '../../workflows/sign-off/definitions';
import { eventually, sleepUntil } from '../support/probes';
import { startWorkflowHarness, type ActivityStubs, type WorkflowHarness } from '../support/workflow-harness';

// incidentCloseOutWorkflow alone (and its report's sign-off): activities are stubs, time is the test
// server's virtual clock, which starts on Monday 2026-11-16 16:00 China time (08:00Z).
const START = '2026-11-16T08:00:00.000Z';
const DEADLINES: CloseOutDeadlines = {
  summaryReportDueAt: '2026-11-17T15:59:59.000Z',
  summaryReportChaseAt: '2026-11-17T01:00:00.000Z',
  followUpDueAt: '2026-11-18T08:00:00.000Z',
  groupSummaryDueAt: '2026-11-23T08:00:00.000Z',
  provisional: false,
};
const stamp = (role: string) => ({ actor: `${role} user`, role, at: START });
const round = (caseNumber: string) => ({ caseId: `case-${caseNumber}`, caseNumber, restoredAt: START, interruptedAt: '2026-11-16T06:00:00.000Z', round: 1 });

/** Deadlines a month after `nowMs`: none falls due while a test runs. */
function distantDeadlines(nowMs: number): CloseOutDeadlines {
  const at = (days: number) => new Date(nowMs + days * 24 * 3_600_000).toISOString();
  return { summaryReportDueAt: at(31), summaryReportChaseAt: at(30), followUpDueAt: at(32), groupSummaryDueAt: at(37), provisional: false };
}

function stubs(deadlines: CloseOutDeadlines, more: ActivityStubs = {}): ActivityStubs {
  return {
    startIncidentCloseOut: async (input) => ({ documentId: input.documentId, deadlines }),
    recordIncidentCloseOutAlert: async () => ({ notified: 1 }),
    recordIncidentReportSigned: async () => undefined,
    recordIncidentSummaryReport: async () => undefined,
    recordIncidentFollowUp: async () => undefined,
    supersedeIncidentCloseOut: async () => undefined,
    recordDocumentVersion: async () => undefined,
    recordDocumentDecision: async () => undefined,
    recordDocumentWithdrawn: async () => undefined,
    ...more,
  };
}

describe('incidentCloseOutWorkflow with stubbed activities', () => {
  let h: WorkflowHarness;
  beforeAll(async () => {
    h = await startWorkflowHarness({ startTime: START });
  }, 60_000);
  afterAll(() => h?.close());

  test('each deadline alerts at its recorded instant, only while still due: the summary written before 09:00 is not chased but missed at the deadline; the follow-up done in time is not chased', async () => {
    await h.withWorker(stubs(DEADLINES), async (worker) => {
      const handle = await worker.start(incidentCloseOutWorkflow, [round('INC-2026-000101')]);
      await eventually(() => handle.query(incidentCloseOutStateQuery), (state) => state.summaryReport.dueAt !== null);
      await handle.executeUpdate(submitIncidentSummaryReportUpdate, {
        args: [{ ...stamp('engineer'), userId: null, content: { impact: 'i', process: 'p', result: 'r', rootCause: 'c', recommendations: 'x' } }],
      });
      await handle.executeUpdate(recordIncidentFollowUpUpdate, { args: [{ ...stamp('service_desk'), reached: true, notes: null }] });

      await sleepUntil(h.env, '2026-11-17T01:01:00Z');
      expect(worker.callsTo('recordIncidentCloseOutAlert')).toEqual([]);
      await sleepUntil(h.env, '2026-11-17T16:00:00Z');
      const [missed] = await eventually(() => worker.callsTo('recordIncidentCloseOutAlert'), (calls) => calls.length === 1);
      expect(missed![0]).toMatchObject({ kind: 'summary_report_missed', dueAt: DEADLINES.summaryReportDueAt, round: 1 });
      await sleepUntil(h.env, '2026-11-23T08:01:00Z');
      const calls = await eventually(() => worker.callsTo('recordIncidentCloseOutAlert'), (all) => all.length === 2);
      expect(calls.map(([input]) => input.kind)).toEqual(['summary_report_missed', 'group_summary_due']);
      expect((await handle.query(incidentCloseOutStateQuery)).followUp.chasedAt).toBeNull();
    });
  });

  test('cancelled after the customer signed the report: nothing to withdraw; the round is superseded once and returns no archive', async () => {
    await h.withWorker(stubs(distantDeadlines(await h.env.currentTimeMs())), async (worker) => {
      const handle = await worker.start(incidentCloseOutWorkflow, [round('INC-2026-000102')]);
      const { incidentReport } = await eventually(() => handle.query(incidentCloseOutStateQuery), (state) => state.incidentReport !== null);
      const signOff = h.env.client.workflow.getHandle(signOffWorkflowId(incidentReport!.documentId));
      await signOff.executeUpdate(submitDocumentVersionUpdate, { args: [{ ...stamp('engineer'), content: {}, reason: null }] });
      await signOff.executeUpdate(decideDocumentUpdate, { args: [{ ...stamp('customer'), version: 1, decision: 'signed', comment: null }] });
      await eventually(() => worker.callsTo('recordIncidentReportSigned'), (calls) => calls.length === 1);

      await handle.cancel();
      expect(await handle.result()).toEqual({ archivedAt: null });
      expect(worker.callsTo('recordDocumentWithdrawn')).toEqual([]);
      expect(worker.callsTo('supersedeIncidentCloseOut')).toEqual([[expect.objectContaining({ caseId: 'case-INC-2026-000102', round: 1 })]]);
      expect(worker.callsTo('recordIncidentCloseOutAlert')).toEqual([]);
    });
  });

  test('cancelled with the report in review: the sign-off withdraws it before the round is superseded', async () => {
    await h.withWorker(stubs(distantDeadlines(await h.env.currentTimeMs())), async (worker) => {
      const handle = await worker.start(incidentCloseOutWorkflow, [round('INC-2026-000103')]);
      const { incidentReport } = await eventually(() => handle.query(incidentCloseOutStateQuery), (state) => state.incidentReport !== null);
      const documentId = incidentReport!.documentId;
      await h.env.client.workflow.getHandle(signOffWorkflowId(documentId)).executeUpdate(submitDocumentVersionUpdate, { args: [{ ...stamp('engineer'), content: {}, reason: null }] });
      await handle.cancel();
      expect(await handle.result()).toEqual({ archivedAt: null });
      expect(worker.callsTo('recordDocumentWithdrawn')).toEqual([[expect.objectContaining({ documentId, stamp: expect.objectContaining({ actor: 'system' }) })]]);
      const withdrawnIndex = worker.calls.findIndex((call) => call.name === 'recordDocumentWithdrawn');
      const supersededIndex = worker.calls.findIndex((call) => call.name === 'supersedeIncidentCloseOut');
      expect(withdrawnIndex).toBeGreaterThanOrEqual(0);
      expect(supersededIndex).toBeGreaterThan(withdrawnIndex);
    });
  });
});
