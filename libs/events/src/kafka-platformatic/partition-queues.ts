/** Buffered messages above which the fetch stream is paused (flow control, not the user's pause). */
const MAX_BUFFERED = 1_000;

export type PartitionQueuesOptions<M> = Readonly<{
  /** Partitions handled at once; each partition still hands over one message at a time. */
  concurrency: number;
  canDeliver: (partition: number) => boolean;
  /** Handles one message; false puts it back at the head of its queue (paused, revoked, stopping). */
  deliver: (message: M) => Promise<boolean>;
  /** Called with true when the backlog is full (pause fetching) and false once it drained to half. */
  onBacklog: (full: boolean) => void;
}>;

/**
 * One FIFO queue per partition, drained by at most one worker per partition and `concurrency`
 * workers in all, with a bound on the messages buffered across partitions.
 */
export const createPartitionQueues = <M>(options: PartitionQueuesOptions<M>) => {
  const queues = new Map<number, M[]>();
  const workers = new Map<number, Promise<void>>();
  const waiting: (() => void)[] = [];
  let active = 0;
  let buffered = 0;
  let full = false;

  const acquire = async (): Promise<void> => {
    if (active < options.concurrency) {
      active++;
      return;
    }
    await new Promise<void>((resolve) => waiting.push(resolve)); // the releaser hands its slot over
  };
  const release = (): void => {
    const handOver = waiting.shift();
    if (handOver) handOver();
    else active--;
  };

  const setBuffered = (count: number): void => {
    buffered = count;
    if (!full && buffered >= MAX_BUFFERED) {
      full = true;
      options.onBacklog(true);
    } else if (full && buffered <= MAX_BUFFERED / 2) {
      full = false;
      options.onBacklog(false);
    }
  };

  const drain = async (partition: number, queue: M[]): Promise<void> => {
    while (queue.length > 0 && options.canDeliver(partition)) {
      await acquire();
      try {
        const message = queue.shift();
        if (message === undefined || !options.canDeliver(partition)) {
          if (message !== undefined) queue.unshift(message);
          return;
        }
        if (queues.get(partition) === queue) setBuffered(buffered - 1);
        if (!(await options.deliver(message)) && queues.get(partition) === queue) {
          queue.unshift(message);
          setBuffered(buffered + 1);
          return;
        }
      } finally {
        release();
      }
    }
  };

  const kickOne = (partition: number): void => {
    const queue = queues.get(partition);
    if (!queue || queue.length === 0 || workers.has(partition) || !options.canDeliver(partition)) return;
    const worker = drain(partition, queue).finally(() => {
      workers.delete(partition);
      if (queues.get(partition) === queue) kickOne(partition);
    });
    workers.set(partition, worker);
  };

  return {
    push: (partition: number, message: M): void => {
      const queue = queues.get(partition) ?? [];
      queues.set(partition, queue);
      queue.push(message);
      setBuffered(buffered + 1);
      kickOne(partition);
    },
    kick: (partitions: readonly number[]): void => partitions.forEach(kickOne),
    /** Drops every buffered message (after a revocation; the stream fetches them again). */
    clear: (): void => {
      queues.clear();
      setBuffered(0);
    },
    full: (): boolean => full,
    /** Resolves when no delivery is running. */
    idle: async (): Promise<void> => {
      while (workers.size > 0) await Promise.all(workers.values());
    },
  };
};
