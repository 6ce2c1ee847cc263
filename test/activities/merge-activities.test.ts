import { mergeActivities } from '../../activities';

describe('mergeActivities', () => {
  test('merges every group into one object of activities', () => {
    const merged = mergeActivities({ first: async () => 1 }, { second: async () => 2 });
    expect(Object.keys(merged).sort()).toEqual(['first', 'second']);
  });

  test('refuses a name defined by two groups, naming it, instead of letting one silently win', () => {
    expect(() => mergeActivities({ recordReturn: async () => 'spare part' }, { recordReturn: async () => 'rma' })).toThrow(/activity recordReturn is defined twice/);
  });
});
