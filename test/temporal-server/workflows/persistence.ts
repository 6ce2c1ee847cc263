import { condition, defineSignal, defineUpdate, setHandler, sleep } from '@temporalio/workflow';

export const noteSignal = defineSignal<[string]>('note');
export const confirmUpdate = defineUpdate<string, [string]>('confirm');

/**
 * Notes signals until the note `last`; its `confirm` update is accepted at once and completes after
 * a timer of `handlerDelay`, answering with the notes it saw by then.
 */
export async function confirmationWorkflow(handlerDelay: string): Promise<string[]> {
  const notes: string[] = [];
  setHandler(noteSignal, (note) => {
    notes.push(note);
  });
  setHandler(confirmUpdate, async (who) => {
    await sleep(handlerDelay);
    return `confirmed by ${who} after notes: ${notes.join(', ')}`;
  });
  await condition(() => notes.includes('last'));
  return notes;
}
