import { describe, expect, it } from 'vitest';
import { OpCode, ResponseCode } from '../../../src/ops/codes.js';
import { OpRegistry } from '../../../src/ops/registry.js';
import { Errors } from '../../../src/shared/errors.js';

const { OK, ERROR, TIMEOUT } = ResponseCode;
const tick = () => new Promise((resolve) => setImmediate(resolve));

function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

/** A task that runs until its gate opens; a process that runs until stopped. */
function demo() {
  const g = gate();
  const reg = new OpRegistry({ now: () => 1_000_000 });
  reg.registerTask<{ n: number }>('count', {
    docstring: 'Counts to n.',
    abortable: true,
    parseParams: (raw) => {
      const n = (raw as { n?: unknown }).n ?? 1;
      if (typeof n !== 'number') throw Errors.BAD_REQUEST("Param 'n' must be a number");
      return { n };
    },
    run: async ({ session, params, signal }) => {
      session.data = { n: params.n };
      await Promise.race([g.opened, new Promise((r) => signal.addEventListener('abort', r))]);
      return signal.aborted ? [false, 'Aborted.'] : [true, `Counted to ${params.n}.`];
    },
  });
  reg.registerProcess('acq', {
    docstring: 'Acquires until stopped.',
    run: async ({ signal }) => {
      await new Promise((r) => signal.addEventListener('abort', r));
      return [true, 'Acquisition exited cleanly.'];
    },
  });
  return { reg, g };
}

describe('OpRegistry actions', () => {
  it('starts a task, reports it, and waits for it like OCS', async () => {
    const { reg, g } = demo();
    expect(reg.status('count')).toEqual([OK, 'No session active.', {}]);
    expect(await reg.wait('count', 1)).toEqual([OK, 'Idle.', {}]);

    const [code, msg, session] = reg.start('count', { n: 3 });
    expect([code, msg]).toEqual([OK, 'Started task "count".']);
    expect(session).toMatchObject({ session_id: 0, op_name: 'count', status: 'starting', op_code: OpCode.STARTING });
    await tick();
    expect(reg.isRunning('count')).toBe(true);
    expect(reg.status('count')).toEqual([OK, 'Session active.', expect.objectContaining({ status: 'running', data: { n: 3 } })]);
    expect(reg.start('count')).toEqual([ERROR, 'Operation "count" already in progress.', expect.objectContaining({ status: 'running' })]);

    expect(await reg.wait('count', 0)).toEqual([TIMEOUT, 'Operation "count" still running; wait timed out.', expect.anything()]);
    expect((await reg.wait('count', 0.03))[0]).toBe(TIMEOUT);

    const waiting = reg.wait('count', null);
    g.open();
    const [wcode, wmsg, done] = await waiting;
    expect([wcode, wmsg]).toEqual([OK, 'Operation "count" is currently not running (SUCCEEDED).']);
    expect(done).toMatchObject({ status: 'done', success: true, op_code: OpCode.SUCCEEDED, end_time: 1000 });
    expect('messages' in done && done.messages.map(([, t]) => t)).toEqual([
      'Status is now "starting".', 'Status is now "running".', 'Counted to 3.', 'Status is now "done".',
    ]);
    // A finished op can start again, with the next session id.
    expect(reg.start('count', { n: 1 })[2]).toMatchObject({ session_id: 1 });
  });

  it('answers ERROR for unknown ops and refused params, creating no session', async () => {
    const { reg } = demo();
    for (const reply of [reg.start('nope'), reg.stop('nope'), reg.abort('nope'), reg.status('nope'), await reg.wait('nope', 0)]) {
      expect(reply).toEqual([ERROR, 'No task or process called "nope"', {}]);
    }
    expect(reg.start('count', { n: 'two' })).toEqual([ERROR, "Param 'n' must be a number", {}]);
    expect(reg.session('count')).toBeUndefined();
    const outcome = await reg.perform('start', 'count', { params: { n: 'two' } });
    expect(outcome.error?.code).toBe(Errors.BAD_REQUEST.code);
  });

  it('turns a throwing run into a FAILED session with the error message', async () => {
    const reg = new OpRegistry();
    reg.registerTask('boom', { docstring: '', run: async () => { throw new Error('disk on fire'); } });
    reg.registerTask('refuse', { docstring: '', run: async () => { throw Errors.BAD_REQUEST('bad n'); } });
    reg.registerTask('sad', { docstring: '', run: async () => [false, 'Nothing to do.'] });
    reg.start('boom');
    reg.start('refuse');
    reg.start('sad');
    const [code, msg, s] = await reg.wait('boom', null);
    expect([code, msg]).toEqual([OK, 'Operation "boom" is currently not running (FAILED).']);
    expect(s).toMatchObject({ success: false, op_code: OpCode.FAILED });
    expect(JSON.stringify(s)).toContain('CRASH: disk on fire');
    expect(JSON.stringify((await reg.wait('refuse', null))[2])).toContain('ERROR: bad n');
    expect((await reg.wait('sad', null))[1]).toBe('Operation "sad" is currently not running (FAILED).');
  });

  it('stops a process through its signal', async () => {
    const { reg } = demo();
    expect(reg.stop('acq')).toEqual([ERROR, 'No session active.', {}]);
    reg.start('acq');
    await tick();
    const [code, msg, s] = reg.stop('acq');
    expect([code, msg]).toEqual([OK, 'Requested stop on process "acq".']);
    expect(s).toMatchObject({ status: 'stopping', op_code: OpCode.STOPPING });
    expect(reg.stop('acq')).toEqual([ERROR, 'The operation is already stopping', {}]);
    expect(await reg.wait('acq', null)).toEqual([OK, 'Operation "acq" is currently not running (SUCCEEDED).', expect.anything()]);
    expect(reg.stop('acq')).toEqual([ERROR, 'The operation is already done', {}]);
  });

  it('aborts abortable tasks only, and never stops a task or aborts a process', async () => {
    const { reg } = demo();
    reg.registerTask('plain', { docstring: '', run: async () => [true, 'ok'] });
    reg.start('count');
    reg.start('acq');
    await tick();
    expect(reg.stop('count')).toEqual([ERROR, 'Cannot "stop" "count" because it is a "task".', {}]);
    expect(reg.abort('acq')).toEqual([ERROR, 'Cannot "abort" "acq" because it is a "process".', {}]);
    expect(reg.abort('plain')).toEqual([ERROR, 'Task "plain" is not abortable.', {}]);
    expect(reg.abort('count').slice(0, 2)).toEqual([OK, 'Requested abort on task "count".']);
    const [, msg, s] = await reg.wait('count', null);
    expect(msg).toBe('Operation "count" is currently not running (FAILED).');
    expect(JSON.stringify(s)).toContain('Aborted.');
  });

  it('never calls run when the stop lands before it began', async () => {
    const reg = new OpRegistry();
    let called = false;
    reg.registerProcess('p', { docstring: '', run: async () => ((called = true), [true, 'ran']) });
    reg.start('p');
    expect(reg.stop('p')[0]).toBe(OK);
    const [, , s] = await reg.wait('p', null);
    expect(called).toBe(false);
    expect(s).toMatchObject({ status: 'done', success: false });
  });

  it('releases a wait early on its signal, answering TIMEOUT', async () => {
    const { reg } = demo();
    reg.start('acq');
    const ac = new AbortController();
    const waiting = reg.wait('acq', null, ac.signal);
    ac.abort();
    expect((await waiting)[0]).toBe(TIMEOUT);
  });
});

describe('OpRegistry description and shutdown', () => {
  it('describes ops for get_api, sorted, with no_history for ops never run', async () => {
    const { reg, g } = demo();
    reg.registerTask('alpha', { docstring: 'First.', run: async () => [true, 'ok'] });
    reg.start('count');
    const d = reg.describe();
    expect(d.tasks.map(([n]) => n)).toEqual(['alpha', 'count']);
    expect(d.tasks[0]).toEqual([
      'alpha', { op_name: 'alpha', status: 'no_history' },
      { blocking: false, docstring: 'First.', op_type: 'task', min_privs: 1, abortable: false },
    ]);
    expect(d.tasks[1]?.[1]).toMatchObject({ op_name: 'count', session_id: 0 });
    expect(d.tasks[1]?.[2].abortable).toBe(true);
    expect(d.processes).toEqual([
      ['acq', { op_name: 'acq', status: 'no_history' },
        { blocking: false, docstring: 'Acquires until stopped.', op_type: 'process', min_privs: 1, abortable: false }],
    ]);
    g.open();
    expect(() => reg.registerTask('alpha', { docstring: '', run: async () => [true, ''] })).toThrow(/already registered/);
  });

  it('stopAll stops processes, aborts tasks, reports stragglers and closes the registry', async () => {
    const { reg } = demo();
    const stuck = gate();
    reg.registerTask('stubborn', { docstring: '', run: async () => (await stuck.opened, [true, 'late']) });
    reg.start('acq');
    reg.start('count');
    reg.start('stubborn');
    await tick();
    expect(await reg.stopAll(50)).toEqual(['stubborn']);
    expect(reg.session('acq')?.status).toBe('done');
    expect(reg.session('count')?.success).toBe(false);
    expect(reg.start('count')).toEqual([ERROR, 'Cannot start "count": shutting down.', {}]);
    stuck.open();
    expect(await reg.stopAll(1000)).toEqual([]);
  });
});
