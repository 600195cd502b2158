/**
 * Where the Redis store keeps what, under one prefix (several fleets can share a Redis). Documents
 * are hashes of `v` (version) and `doc` (JSON); everything else is an index kept in the same
 * commit as the documents it points at.
 */
export type RedisKeys = ReturnType<typeof redisKeys>;

export function redisKeys(p: string) {
  return {
    job: (id: string) => `${p}job:${id}`,
    /** Every job by seq, and the jobs of each state by seq. */
    jobs: `${p}jobs`,
    jobsIn: (state: string) => `${p}jobs-in:${state}`,
    /** Finished jobs by when they finished: what retention prunes. */
    finished: `${p}finished`,
    /** A node's queued deliveries, in offer order (see queueScore). */
    queue: (node: string) => `${p}queue:${node}`,
    /** Queued and offered deliveries per node, for routing to the shortest queue. */
    queueLengths: `${p}queue-lengths`,
    /** Offered deliveries (`<node> <job id>`) by when their lease expires. */
    leases: `${p}leases`,
    /** Ids of the jobs a node acknowledged and has not finished. */
    running: (node: string) => `${p}running:${node}`,
    /** Roles (JSON) per node, and when each node was last seen. */
    sessions: `${p}sessions`,
    seen: `${p}seen`,

    process: (id: string) => `${p}process:${id}`,
    /** Every process by creation time. */
    processes: `${p}processes`,
    /** The id of the unfinished process of that name on the node: a name runs once per node. */
    processName: (node: string, name: string) => `${p}process-name:${node}:${name}`,
    unfinished: `${p}processes-unfinished`,
    unfinishedOn: (node: string) => `${p}processes-unfinished:${node}`,
    /** Finished processes by end time: not yet handed out, and handed out (what retention prunes). */
    undelivered: `${p}processes-undelivered`,
    delivered: `${p}processes-delivered`,
    /** The ids handed out under one `take` key, in order. */
    batch: (key: string) => `${p}processes-batch:${key}`,
    cores: `${p}cores`,

    logSeq: `${p}log-seq`,
    /** Log messages (JSON) by number, and indexes of numbers. */
    logEntries: `${p}logs`,
    logsAll: `${p}logs-all`,
    logsOfJob: (id: string) => `${p}logs-job:${id}`,
    logsOfNode: (node: string) => `${p}logs-node:${node}`,
    logsOfJobOnNode: (id: string, node: string) => `${p}logs-job-node:${node}:${id}`,
    logsReceived: `${p}logs-received`,
    /** A node's stats batches, newest first; and the nodes that have any. */
    stats: (node: string) => `${p}stats:${node}`,
    statsNodes: `${p}stats-nodes`,
    scripts: `${p}scripts`,
    scriptsUsed: `${p}scripts-used`,
  };
}

/** Urgent deliveries (the controller's kill jobs) first, then submission order. */
export function queueScore(seq: number, urgent: boolean): number {
  return urgent ? seq : 2 ** 50 + seq;
}

/** Members of the leases set. A node name has no space; a job id may. */
export const leaseMember = (node: string, id: string): string => `${node} ${id}`;

export function parseLeaseMember(member: string): { node: string; id: string } {
  const at = member.indexOf(' ');
  return { node: member.slice(0, at), id: member.slice(at + 1) };
}
