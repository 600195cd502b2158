import { describe, expect, it } from 'vitest';
import { GroupCommit } from '../../../src/controller/store/group-commit.js';

/** A commit that records its batches and fails items named "dup". */
function recorder() {
  const batches: string[][] = [];
  const gc = new GroupCommit<string, string>((items) => {
    batches.push(items);
    return items.map((i) => (i === 'dup' ? { error: new Error(`duplicate ${i}`) } : { value: i.toUpperCase() }));
  });
  return { gc, batches };
}

describe('GroupCommit', () => {
  it('commits a lone write at once, and the rest of the turn together at setImmediate', async () => {
    const { gc, batches } = recorder();
    const first = gc.add('a');
    expect(batches).toEqual([['a']]);
    const rest = [gc.add('b'), gc.add('c'), gc.add('d')];
    expect(batches).toEqual([['a']]);
    expect(await Promise.all([first, ...rest])).toEqual(['A', 'B', 'C', 'D']);
    expect(batches).toEqual([['a'], ['b', 'c', 'd']]);
    await new Promise((r) => setImmediate(r));
    await gc.add('e');
    expect(batches.at(-1)).toEqual(['e']);
  });

  it('fails only the item that failed, and every item when the commit itself throws', async () => {
    const { gc } = recorder();
    await gc.add('x');
    const outcomes = await Promise.allSettled([gc.add('ok'), gc.add('dup'), gc.add('fine')]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    const broken = new GroupCommit<string, string>(() => {
      throw new Error('disk full');
    });
    await expect(broken.add('a')).rejects.toThrow('disk full');
    const both = [broken.add('b'), broken.add('c')];
    await expect(Promise.all(both)).rejects.toThrow('disk full');
    await expect(both[1]).rejects.toThrow('disk full');
  });

  it('flush() commits what is pending before the turn ends', async () => {
    const { gc, batches } = recorder();
    void gc.add('a');
    const b = gc.add('b');
    gc.flush();
    expect(batches).toEqual([['a'], ['b']]);
    expect(await b).toBe('B');
  });
});
