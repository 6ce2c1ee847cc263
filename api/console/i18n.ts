import type { Locale } from '../../db/schema';

/** The console's own words in both languages. Field names and enum values not listed fall back to readable English. */
const UI = {
  en: {
    brand: 'fieldops console',
    skipToContent: 'Skip to content',
    myWork: 'My work',
    cases: 'Cases',
    boards: 'Boards',
    register: 'Register',
    admin: 'Admin',
    api: 'API',
    signOut: 'Sign out',
    signedInAs: 'Signed in as',
    language: 'Language',
    signInTitle: 'Sign in',
    signInIntro: 'Enter your work email address. We email you a sign-in link that works once, for 15 minutes.',
    email: 'Email address',
    sendLink: 'Email me a sign-in link',
    invalidEmail: 'Enter a valid email address',
    linkSent: 'If that address belongs to a fieldops user, a sign-in link is on its way. It works once, for 15 minutes.',
    signInAs: (name: string) => `Sign in as ${name}`,
    signInConfirm: 'Press the button to finish signing in on this device.',
    linkExpired: 'This sign-in link has expired. Ask for a new one.',
    linkUsed: 'This sign-in link has already been used. Ask for a new one.',
    linkInvalid: 'This sign-in link is not valid.',
    askAgain: 'Get a new sign-in link',
    signedOut: 'You are signed out.',
    waitingForYou: 'Waiting for you',
    nothingWaiting: 'Nothing is waiting for you.',
    task: 'Task',
    case: 'Case',
    waitingSince: 'Waiting since',
    due: 'Due',
    timeLeft: 'Time left',
    noDeadline: 'no deadline',
    details: 'Details',
    actions: 'What you can do',
    related: 'Related pages',
    noActions: 'Your role has nothing to do here.',
    submit: 'Submit',
    timeline: 'Timeline',
    emails: 'Emails sent',
    noEmails: 'No email yet.',
    evidence: 'Evidence',
    noEvidence: 'No evidence uploaded.',
    versions: 'Versions',
    changes: (from: number, to: number) => `Changes from v${from} to v${to}`,
    decisions: 'Decisions',
    liveUpdated: 'This case changed. The page shows the latest.',
    liveChangedWhileEditing: 'This case changed while you were typing.',
    reload: 'Show the latest',
    filters: 'Filter',
    apply: 'Apply',
    previous: 'Previous',
    next: 'Next',
    total: (count: number) => `${count} in all`,
    empty: 'Nothing here.',
    onePerLine: 'one per line',
    jsonHint: (shape: string) => `JSON: ${shape}`,
    body: 'Request body (JSON)',
    fixTheseFields: 'Please correct the fields marked below.',
    done: 'Done.',
    notFound: 'There is no such page.',
    forbidden: 'Your role may not see this page.',
    pathParameter: 'Which one',
    required: 'required',
    optional: 'optional',
    registerIntro: 'Register new work. Each form checks what you enter the same way the API does.',
    open: 'Open',
    closed: 'Closed',
    status: 'Status',
    waitingFor: 'Waiting for',
    inTime: (duration: string) => `in ${duration}`,
    ago: (duration: string) => `${duration} ago`,
    left: (duration: string) => `${duration} left`,
    overdueBy: (duration: string) => `overdue by ${duration}`,
    chinaTime: 'China time',
    download: 'Download',
    created: 'Created',
    billing: 'Billing',
    boardsIntro: 'Lists to watch, each a page you can filter and link to. The numbers are how many each holds now.',
    boardDeadlines: 'Deadlines',
    boardDeadlinesIntro: 'Every deadline a process recorded and that is still to be kept: loans to return, SLA targets, reports, follow-up calls, standby units, ship-backs. Due soon means within 24 hours.',
    boardOverdue: 'Overdue',
    boardDueSoon: 'Due within 24 hours',
    boardAllDeadlines: 'All open deadlines',
    boardIncidents: 'Open incidents by level',
    boardIncidentsIntro: 'Incidents not yet closed, by the level they were graded (level 1 is the most severe).',
    boardIncidentLevel: (level: string) => `Level ${level}`,
    boardAllOpenIncidents: 'All open incidents',
    boardCampaigns: 'Rectification campaign progress',
    boardCampaignsIntro: 'Devices rectified, declined, failed and still open per campaign, counted now.',
    boardCampaignsRolling: 'Rolling out',
    boardCampaignsAll: 'All campaigns',
    billingIntro: 'Invoice lines the processes wrote (charges and credits), by billing cycle. Amounts in yuan; the CSV has them in yuan and in fen.',
    billingCycle: 'Billing cycle',
    downloadCsv: (cycle: string) => `Download ${cycle} as CSV`,
  },
  'zh-CN': {
    brand: 'fieldops 控制台',
    skipToContent: '跳到正文',
    myWork: '我的待办',
    cases: '案件',
    boards: '看板',
    register: '登记',
    admin: '管理',
    api: 'API',
    signOut: '退出',
    signedInAs: '当前用户',
    language: '语言',
    signInTitle: '登录',
    signInIntro: '请输入工作邮箱。我们会发送一个登录链接，15 分钟内有效，只能使用一次。',
    email: '邮箱地址',
    sendLink: '发送登录链接',
    invalidEmail: '请输入有效的邮箱地址',
    linkSent: '如果该地址属于 fieldops 用户，登录链接已发出。链接 15 分钟内有效，只能使用一次。',
    signInAs: (name: string) => `以 ${name} 身份登录`,
    signInConfirm: '请点击按钮，在本设备上完成登录。',
    linkExpired: '此登录链接已过期，请重新获取。',
    linkUsed: '此登录链接已被使用，请重新获取。',
    linkInvalid: '此登录链接无效。',
    askAgain: '重新获取登录链接',
    signedOut: '您已退出。',
    waitingForYou: '等待您处理',
    nothingWaiting: '目前没有待办事项。',
    task: '事项',
    case: '案件',
    waitingSince: '等待开始于',
    due: '期限',
    timeLeft: '剩余时间',
    noDeadline: '无期限',
    details: '详情',
    actions: '您可以执行的操作',
    related: '相关页面',
    noActions: '您的角色在此无需操作。',
    submit: '提交',
    timeline: '时间线',
    emails: '已发送邮件',
    noEmails: '尚无邮件。',
    evidence: '证据材料',
    noEvidence: '尚未上传材料。',
    versions: '版本',
    changes: (from: number, to: number) => `v${from} 到 v${to} 的变更`,
    decisions: '审批记录',
    liveUpdated: '此案件已更新，页面已显示最新内容。',
    liveChangedWhileEditing: '您输入期间此案件已更新。',
    reload: '显示最新内容',
    filters: '筛选',
    apply: '应用',
    previous: '上一页',
    next: '下一页',
    total: (count: number) => `共 ${count} 条`,
    empty: '暂无内容。',
    onePerLine: '每行一项',
    jsonHint: (shape: string) => `JSON：${shape}`,
    body: '请求内容（JSON）',
    fixTheseFields: '请修改下列标出的字段。',
    done: '已完成。',
    notFound: '页面不存在。',
    forbidden: '您的角色无权查看此页面。',
    pathParameter: '对象',
    required: '必填',
    optional: '选填',
    registerIntro: '登记新工作。各表单的校验与 API 完全一致。',
    open: '进行中',
    closed: '已关闭',
    status: '状态',
    waitingFor: '等待',
    inTime: (duration: string) => `${duration}后`,
    ago: (duration: string) => `${duration}前`,
    left: (duration: string) => `剩余 ${duration}`,
    overdueBy: (duration: string) => `已超期 ${duration}`,
    chinaTime: '北京时间',
    download: '下载',
    created: '已创建',
    billing: '计费',
    boardsIntro: '需要关注的列表，每个都可筛选、可分享链接。数字为当前条数。',
    boardDeadlines: '期限',
    boardDeadlinesIntro: '各流程记录且尚未完成的期限：备件归还、SLA 目标、报告、回访电话、备用设备、返修寄回。即将到期指 24 小时内到期。',
    boardOverdue: '已超期',
    boardDueSoon: '24 小时内到期',
    boardAllDeadlines: '全部未完成期限',
    boardIncidents: '按级别查看未关闭的重大故障',
    boardIncidentsIntro: '尚未关闭的重大故障，按定级显示（1 级最严重）。',
    boardIncidentLevel: (level: string) => `${level} 级`,
    boardAllOpenIncidents: '全部未关闭的重大故障',
    boardCampaigns: '批量整改进度',
    boardCampaignsIntro: '各整改活动中已整改、已拒绝、失败和未完成的设备数（实时统计）。',
    boardCampaignsRolling: '实施中',
    boardCampaignsAll: '全部整改活动',
    billingIntro: '各流程生成的账单明细（收费与冲销），按账期显示。金额单位为元；CSV 同时含元和分。',
    billingCycle: '账期',
    downloadCsv: (cycle: string) => `下载 ${cycle} 账期 CSV`,
  },
} satisfies Record<Locale, Record<string, unknown>>;

/** Chinese names of the fields and values staff meet most; anything else shows its English name. */
const ZH_WORDS: Record<string, string> = {
  caseNumber: '案件编号', loanNumber: '借用单号', claimNumber: '索赔单号', number: '编号', status: '状态', waitingFor: '等待',
  customerId: '客户', customerName: '客户名称', contactId: '联系人', deviceSerial: '设备序列号', serial: '序列号', siteId: '站点',
  symptoms: '故障现象', actionsTaken: '已采取措施', suspectedCause: '可能原因', severity: '严重程度', reportedAt: '报告时间',
  comment: '意见', decision: '决定', version: '版本', content: '内容', reason: '原因', title: '标题', kind: '类型',
  dueAt: '期限', createdAt: '创建时间', closedAt: '关闭时间', timeline: '时间线', targets: 'SLA 目标', engineer: '工程师',
  approved: '批准', rejected: '驳回', passed: '通过', failed: '不通过', open: '进行中', closed: '已关闭',
  productId: '产品', quantity: '数量', partNumber: '备件号', note: '备注', notes: '备注', trackingNumber: '运单号', carrier: '承运商',
  name: '名称', email: '邮箱', role: '角色', phone: '电话', address: '地址', level: '级别', description: '描述',
  at: '时间', actor: '执行人', action: '操作', summary: '摘要', steps: '步骤', currentVersion: '当前版本', versions: '版本',
  manager: '技术经理', engineerRole: '工程师', service_desk: '服务台', billing: '计费', rd_reviewer: '研发评审', admin: '管理员', senior_engineer: '高级工程师',
  pending_approval: '待审批', overdue: '已超期', returned: '已归还', in_review: '审核中', signed: '已签署',
  what: '事项', state: '状态', due_soon: '即将到期', later: '未到期',
  spare_part_return: '备件归还', sla_target: 'SLA 目标', incident_escalation: '重大故障升级', report: '报告', write_up: '案件总结', follow_up_call: '回访电话',
  standby_unit: '备用设备换回', rma_ship_back: '返修寄回', rd_review: '研发评审', part_return: '旧件返还', doa_conversion_offer: 'DOA 转返修答复',
  billingCycle: '账期', amount: '金额（元）', amountCents: '金额（分）', currency: '币种', sourceRef: '来源', issuedAt: '开票时间',
  percentDone: '完成率 %', devicesRectified: '已整改', devicesDeclined: '已拒绝', devicesFailed: '失败', devicesOpen: '未完成', rolling_out: '实施中',
};

const DURATION_UNITS = {
  en: { day: 'd', hour: 'h', minute: 'min' },
  'zh-CN': { day: '天', hour: '小时', minute: '分钟' },
} as const;

export type UiStrings = (typeof UI)['en'];

export interface ConsoleText {
  locale: Locale;
  ui: UiStrings;
  field(key: string): string;
  value(value: string): string;
  duration(ms: number): string;
}

const humanise = (name: string) => name.replace(/([a-z0-9])([A-Z])/g, '$1 $2').replace(/[_-]+/g, ' ').replace(/^./, (char) => char.toUpperCase());

export function consoleText(locale: Locale): ConsoleText {
  const zh = locale === 'zh-CN';
  return {
    locale,
    ui: UI[locale],
    field: (key) => (zh && ZH_WORDS[key]) || humanise(key),
    value: (value) => (zh && ZH_WORDS[value]) || value.replace(/_/g, ' '),
    duration(ms) {
      const units = DURATION_UNITS[locale];
      const minutes = Math.max(1, Math.round(Math.abs(ms) / 60_000));
      const days = Math.floor(minutes / 1440);
      const hours = Math.floor((minutes % 1440) / 60);
      const rest = minutes % 60;
      const sep = zh ? '' : ' ';
      if (days > 0) return `${days}${sep}${units.day}${hours > 0 ? ` ${hours}${sep}${units.hour}` : ''}`;
      if (hours > 0) return `${hours}${sep}${units.hour}${rest > 0 ? ` ${rest}${sep}${units.minute}` : ''}`;
      return `${rest}${sep}${units.minute}`;
    },
  };
}

/** The user's choice, else the browser's first language we speak, else Chinese. */
export function localeFor(chosen: Locale | null | undefined, acceptLanguage: string | undefined): Locale {
  if (chosen) return chosen;
  for (const part of (acceptLanguage ?? '').split(',')) {
    const tag = part.split(';')[0]!.trim().toLowerCase();
    if (tag.startsWith('zh')) return 'zh-CN';
    if (tag.startsWith('en')) return 'en';
  }
  return 'zh-CN';
}
