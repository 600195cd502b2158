/** Whether the children asked for have reached their target: pure, so `--wait` is tested fast. */
import type { ChildState } from '../hostmanager/child/child-state.js';

export interface Progress {
  done: string[];
  pending: string[];
  /** Asked up but not operable: waiting would never end. */
  stuck: string[];
}

export function progress(children: readonly ChildState[], ids: readonly string[] | 'all', target: 'up' | 'down'): Progress {
  const wanted = ids === 'all' ? children : children.filter((c) => ids.includes(c.instance_id));
  const result: Progress = { done: [], pending: [], stuck: [] };
  for (const c of wanted) {
    if (c.next_action === target || (target === 'down' && c.next_action === '?')) result.done.push(c.instance_id);
    else if (target === 'up' && c.next_action === '?') result.stuck.push(c.instance_id);
    else result.pending.push(c.instance_id);
  }
  return result;
}

export function describeProgress(p: Progress, target: string): string {
  const total = p.done.length + p.pending.length + p.stuck.length;
  const waiting = p.pending.length ? `; waiting for ${p.pending.slice(0, 5).join(', ')}${p.pending.length > 5 ? ', …' : ''}` : '';
  return `${p.done.length}/${total} ${target}${waiting}`;
}
