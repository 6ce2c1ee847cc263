// Pure, deterministic business rules: safe to import from workflow code (no I/O, no clock reads).
export * from './time';
export * from './calendar';
export * from './sla';
export * from './grading';
export * from './goods';
