// Every workflow the worker runs. Workflow code imports only @temporalio/workflow, other workflow
// modules and activity *types*: it is bundled and replayed deterministically.
export { sparePartLoanWorkflow } from './spare-part/workflow';
export { signOffWorkflow } from './sign-off/workflow';
export { faultRepairWorkflow } from './fault-repair/workflow';
export { goodsClaimWorkflow } from './goods-claim/workflow';
export { rmaRepairWorkflow } from './rma-repair/workflow';
export { doaClaimWorkflow } from './doa-claim/workflow';
export { incidentWorkflow } from './incident/workflow';
export { incidentCloseOutWorkflow } from './incident-close-out/workflow';
export { rectificationSiteWorkflow } from './rectification/site-workflow';
export { rectificationCampaignWorkflow } from './rectification/campaign-workflow';
export { rectificationCustomerWorkflow } from './rectification/customer-workflow';
