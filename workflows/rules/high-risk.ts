// High-risk operations [PROCESSES.md P1 step 8; seed 004 第七部分 高危操作]: a plan that contains any
// needs the manager's authorisation and the customer's written approval, and runs in a maintenance window.

export const HIGH_RISK_OPERATIONS = [
  'data_change',
  'data_migration',
  'data_restore',
  'cut_over',
  'capacity_expansion',
  'software_upgrade',
  'software_downgrade',
  'patch',
  'hot_swap',
  'restart',
  'power_cycle',
  'failover',
  'disaster_recovery_drill',
  'live_port_change',
] as const;
export type HighRiskOperation = (typeof HIGH_RISK_OPERATIONS)[number];

/** What each operation is called on a plan and on the customer's signature page. */
export const HIGH_RISK_OPERATION_NAMES: Record<HighRiskOperation, { en: string; 'zh-CN': string }> = {
  data_change: { en: 'Data change', 'zh-CN': '数据修改' },
  data_migration: { en: 'Data migration', 'zh-CN': '数据迁移' },
  data_restore: { en: 'Data restore', 'zh-CN': '数据恢复' },
  cut_over: { en: 'Cut-over', 'zh-CN': '割接' },
  capacity_expansion: { en: 'Capacity expansion', 'zh-CN': '扩容' },
  software_upgrade: { en: 'Software upgrade', 'zh-CN': '软件升级' },
  software_downgrade: { en: 'Software downgrade', 'zh-CN': '软件降级' },
  patch: { en: 'Patch', 'zh-CN': '打补丁' },
  hot_swap: { en: 'Hot swap of a board', 'zh-CN': '单板热插拔' },
  restart: { en: 'Restart', 'zh-CN': '重启' },
  power_cycle: { en: 'Power off and on', 'zh-CN': '上下电' },
  failover: { en: 'Failover / switchover', 'zh-CN': '主备倒换' },
  disaster_recovery_drill: { en: 'Disaster-recovery drill', 'zh-CN': '容灾演练' },
  live_port_change: { en: 'Connecting or disconnecting live ports', 'zh-CN': '在用端口插拔' },
};

/** The high-risk operations a plan's content lists, by their codes (whatever else the content holds). */
export function highRiskOperationsIn(content: unknown): string[] {
  const listed = (content as { highRiskOperations?: unknown } | null | undefined)?.highRiskOperations;
  return Array.isArray(listed) ? listed.filter((operation): operation is string => typeof operation === 'string') : [];
}
