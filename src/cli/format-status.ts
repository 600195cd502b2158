/** Renders host manager status as ocsbow does: one row per instance, the HostManager first. */
import type { ChildrenView } from '../client/hostmanager-client.js';

/** ocsbow calls a child unstable at stability ≤ 0.5. */
export const UNSTABLE_AT = 0.5;

export function displayState(child: { next_action: string; stability: number }): string {
  return child.stability <= UNSTABLE_AT ? 'unstable' : child.next_action;
}

export function formatStatus(url: string, view: ChildrenView): string {
  const managerState = view.manager.running ? 'up' : `down (manager ${view.manager.status ?? 'never started'})`;
  const rows: string[][] = [
    ['[instance-id]', '[agent-class]', '[state]', '[target]', '[note]'],
    [view.instance_id, 'HostManager', managerState, '', url],
  ];
  for (const c of view.children) {
    const note = c.next_action === 'up' ? '' : c.reason;
    rows.push([c.instance_id, c.agent_class, displayState(c), c.target_state, note]);
  }
  const widths = rows[0]!.slice(0, -1).map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const lines = rows.map((r) =>
    r
      .map((cell, i) => (i < widths.length ? cell.padEnd(widths[i]!) : cell))
      .join('  ')
      .trimEnd(),
  );
  // A file read fine says `OK…`; one read with warnings (an SCF entry skipped) says the warnings,
  // which must show here: the skipped child just vanishes from the table above.
  for (const [file, [ok, at, message]] of Object.entries(view.config_parse_status)) {
    if (ok && message.startsWith('OK')) continue;
    lines.push('', `config ${ok ? 'warning' : 'error'} in ${file} (${new Date(at * 1000).toISOString()}): ${message}`);
  }
  return `${view.host ?? '?'}:\n${lines.map((l) => `  ${l}`).join('\n')}`;
}
