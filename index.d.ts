// Public types of @shared-infra/job-queue: the design's interfaces under the design's names
// (types/design.d.ts), its coordinator and managers (types/coordinator.d.ts), BullMQ 6's classes
// on this package's engine (types/bullmq.d.ts) and the error classes (types/errors.d.ts).
// The native layer's generated types are in binding.d.ts.

import { Job } from './types/bullmq';
import type { JobQueueCoordinator } from './types/coordinator';
import type { Logger, QueueConfig, QueueTypeConfig } from './types/design';

export * from './types/bullmq';
export * from './types/design';
export * from './types/coordinator';
export * from './types/errors';

/** The default coordinator, configured from the environment; it connects on first use. */
export declare const jobCoordinator: JobQueueCoordinator;

/** The design's queue-type presets; a queue named like one (or created with `type`) gets its
 * defaults. Each also carries the preset flattened into QueueConfig fields. */
export declare const QUEUE_TYPES: Record<string, QueueTypeConfig & Omit<QueueConfig, 'name'>>;

/** The logger the coordinator uses: JSON lines on `stream` at `level` (default LOG_LEVEL, info),
 * or a pino-style `target`. */
export declare function createLogger(options?: { target?: Logger; level?: string; stream?: { write(line: string): unknown } }): {
  /** Whether entries at this level are kept. */
  enabled(level: string): boolean;
  debug(msg: string, fields?: object): void;
  info(msg: string, fields?: object): void;
  warn(msg: string, fields?: object): void;
  error(msg: string, fields?: object): void;
};

/** The job enqueueJob / enqueueBulk resolve to (its options are parsed when first read). */
export declare class AddedJob<T = any, R = any, N extends string = string> extends Job<T, R, N> {}

/** The job a processor receives. */
export declare class ActiveJob<T = any, R = any, N extends string = string> extends Job<T, R, N> {}
