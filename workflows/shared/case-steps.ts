// The workflow side of the process kit: a case's human steps (Updates) and the workflow's own steps,
// checked against the case's status and applied one at a time in the order they arrived.
import { ApplicationFailure, setHandler } from '@temporalio/workflow';
import type { UpdateDefinition } from '@temporalio/common';
import { INVALID_TRANSITION } from './definitions';
import { createStepQueue } from './step-queue';

/** A step of a process: the statuses it may start from and the words of its refusal ("cannot <action>"). */
export interface StepRule<Status extends string> {
  readonly from: readonly Status[];
  readonly action: string;
}

export interface CaseStepsOptions<Status extends string> {
  /** The case's state; `status` is what the rules are checked against and what each step sets. */
  readonly state: { status: Status };
  /** The case as a refusal names it, e.g. `loan SP-2026-000042`. */
  readonly subject: string;
  /** How a refusal describes each status, e.g. `is waiting for approval`. */
  readonly statusWords: Readonly<Record<Status, string>>;
  /**
   * true (every new process): an update that arrives while another step runs waits its turn and is
   * checked then. false: only for runs that started before their process adopted this (replay), an
   * update is refused with "try again" while another step runs.
   */
  readonly serialized: boolean;
}

/**
 * One per workflow run. Register every human step with `update` before the workflow's first await;
 * run the workflow's own timed steps (reminders, deadlines) with `run` so they queue with the rest.
 */
export function createCaseSteps<Status extends string>(options: CaseStepsOptions<Status>) {
  const { state, subject, statusWords, serialized } = options;
  const queue = createStepQueue();
  let changeInProgress = false;

  const refuseUnlessAllowed = (rule: StepRule<Status>): void => {
    if (!rule.from.includes(state.status)) {
      throw ApplicationFailure.create({
        type: INVALID_TRANSITION,
        message: `cannot ${rule.action}: ${subject} ${statusWords[state.status]}`,
        details: [{ status: state.status }],
      });
    }
  };

  // The validator refuses at once (nothing in the history) a step that does not fit the case as it
  // is, when no other step runs or waits; otherwise the step waits its turn and is checked then.
  const validate = (rule: StepRule<Status>): void => {
    if (serialized) {
      if (queue.idle) refuseUnlessAllowed(rule);
      return;
    }
    if (changeInProgress) {
      throw ApplicationFailure.create({ type: INVALID_TRANSITION, message: `cannot ${rule.action}: another change to ${subject} is in progress, try again` });
    }
    refuseUnlessAllowed(rule);
  };

  const apply = async (rule: StepRule<Status>, step: () => Promise<Status>): Promise<void> => {
    if (serialized) {
      await queue.run(async () => {
        // Its turn: an earlier step may have moved the case on, and then this one gets the refusal of the new state.
        refuseUnlessAllowed(rule);
        state.status = await step();
      });
      return;
    }
    // Unserialized runs: validated updates were applied one at a time; the flag is set before the first await.
    changeInProgress = true;
    try {
      state.status = await step();
    } finally {
      changeInProgress = false;
    }
  };

  return {
    /**
     * A human step as an Update: refused (validator) when `rule` does not allow it or `validateInput`
     * throws; otherwise queued, checked again on its turn, and answered with `answer()` once `step`
     * (its activity, which records the change) returned the new status.
     */
    update<Result, Arg>(
      definition: UpdateDefinition<Result, [Arg]>,
      rule: StepRule<Status>,
      step: (arg: Arg) => Promise<Status>,
      answer: () => Result,
      validateInput: (arg: Arg) => void = () => undefined,
    ): void {
      setHandler(
        definition,
        async (arg: Arg) => {
          await apply(rule, () => step(arg));
          return answer();
        },
        {
          validator: (arg: Arg) => {
            validate(rule);
            validateInput(arg);
          },
        },
      );
    },

    /** A step of the workflow's own (a reminder, a deadline), in turn with the updates. Serialized runs only. */
    run<T>(step: () => Promise<T>): Promise<T> {
      return queue.run(step);
    },

    /** Unserialized runs: a step of the workflow's own; an update that arrives meanwhile is refused with "try again". */
    async runUnserialized<T>(step: () => Promise<T>): Promise<T> {
      changeInProgress = true;
      try {
        return await step();
      } finally {
        changeInProgress = false;
      }
    },

    /** Unserialized runs: no step is being applied. */
    get idle(): boolean {
      return serialized ? queue.idle : !changeInProgress;
    },
  };
}
