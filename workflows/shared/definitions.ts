// What every process's workflow and the API share. Only types and constants: bundled into workflow code.

/** Who did something, in which role, and when they did it (not when the system processed it). */
export interface ActorStamp {
  actor: string;
  role: string;
  /** ISO instant. */
  at: string;
}

/** The ApplicationFailure type a refused transition carries; the API maps it to 409. */
export const INVALID_TRANSITION = 'InvalidTransition';
/** The ApplicationFailure type for input that breaks a business rule (e.g. wrong serial); the API maps it to 422. */
export const BUSINESS_RULE_VIOLATION = 'BusinessRuleViolation';
