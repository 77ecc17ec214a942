// Public types of @shared-infra/job-queue: the design's interfaces under the design's names
// (types/design.d.ts), its coordinator and managers (types/coordinator.d.ts), BullMQ 6's classes
// on this package's engine (types/bullmq.d.ts) and the error classes (types/errors.d.ts).
// The native layer's generated types are in binding.d.ts; types/ reuse those of the results that
// cross the boundary unchanged (Metrics, WorkerStats, Latency...), and say so where a public type
// differs on purpose from the engine's (the design's names).

import { Job } from './types/bullmq';
import { JobQueueCoordinator as CoordinatorClass } from './types/coordinator';
import type { FieldsFirstLogger, Logger } from './types/design';

export * from './types/bullmq';
export * from './types/design';
export * from './types/coordinator';
export * from './types/errors';

/** The default coordinator, configured from the environment; it connects on first use. */
export declare const jobCoordinator: CoordinatorClass;

/** The design's queue-type presets; a queue named like one (or created with `type`) gets its
 * defaults. Each also carries the preset flattened into QueueConfig fields. */
export declare const QUEUE_TYPES: Record<string, QueueTypeConfig & Omit<QueueConfig, 'name'>>;

/** The logger the coordinator uses: JSON lines on `stream` at `level` (default LOG_LEVEL, info),
 * or a `target` logger, called (message, fields) as the design does, or (fields, message) for
 * pino and bunyan loggers or when `style` is 'pino'. */
export declare function createLogger(options?: {
  target?: Logger | FieldsFirstLogger;
  style?: 'design' | 'pino';
  level?: string;
  stream?: { write(line: string): unknown };
}): {
  /** Whether entries at this level are kept. */
  enabled(level: string): boolean;
  debug(msg: string, fields?: object): void;
  info(msg: string, fields?: object): void;
  warn(msg: string, fields?: object): void;
  error(msg: string, fields?: object): void;
};

/** The `ACL SETUSER` arguments for a Redis user limited to the keys of `prefix` (default
 * 'bull') and the commands this package sends: `['ACL', 'SETUSER', user, 'on', '>password',
 * 'resetkeys', '~prefix:*', 'resetchannels', '-@all', '+ping', ...]`. */
export declare function redisAclRule(prefix?: string, user?: string, password?: string): string[];

/** The job enqueueJob / enqueueBulk resolve to (its options are parsed when first read). */
export declare class AddedJob<T = any, R = any, N extends string = string> extends Job<T, R, N> {}

/** The job a processor receives. */
export declare class ActiveJob<T = any, R = any, N extends string = string> extends Job<T, R, N> {}

// The design's interface names, declared here as well as in types/ (each is the same type),
// so every name the design declares is found in this file.
import type * as D from './types/design';
import type * as C from './types/coordinator';
import type * as B from './types/bullmq';
export type AutoScalingPolicy = D.AutoScalingPolicy;
export type BackoffOptions = D.BackoffOptions;
export type BatchProcessingJob = D.BatchProcessingJob;
export type BottleneckAnalysis = D.BottleneckAnalysis;
export type CleanupJob = D.CleanupJob;
export type DeadLetterHandler = C.DeadLetterHandler;
export type FailedJob<T = any> = D.FailedJob<T>;
export type FailedJobStatistics = D.FailedJobStatistics;
export type HealthIssue = D.HealthIssue;
export type HealthRecommendation = D.HealthRecommendation;
export type JobAccessControl = C.JobAccessControl;
export type JobLogEntry = D.JobLogEntry;
export type JobProcessingContext = D.JobProcessingContext;
export type JobQueueCoordinatorConfig = D.JobQueueCoordinatorConfig;
export type JobQueueMetrics = C.JobQueueMetrics;
export type JobQueueMetricsSnapshot = D.JobQueueMetricsSnapshot;
export type JobScheduler = C.JobScheduler;
export type JobSecurityManager = C.JobSecurityManager;
export type JobState = D.JobState;
export type ManagedWorker<T = any, R = any> = D.ManagedWorker<T, R>;
export type OptimizationAction = D.OptimizationAction;
export type OptimizationResult = D.OptimizationResult;
export type PerformanceOptimizer = C.PerformanceOptimizer;
export type Permission = D.Permission;
export type PermissionCondition = D.PermissionCondition;
export type PhotoProcessingJob = D.PhotoProcessingJob;
export type PipelineConfig = D.PipelineConfig;
export type ProcessingStage = D.ProcessingStage;
export type QueueConfig = D.QueueConfig;
export type QueueHealthChecker = C.QueueHealthChecker;
export type QueueHealthMetrics = D.QueueHealthMetrics;
export type QueueHealthStatus = D.QueueHealthStatus;
export type QueueManager = C.QueueManager;
export type QueueMetrics = D.QueueMetrics;
export type QueueMetricsSnapshot = D.QueueMetricsSnapshot;
export type QueueStatus = D.QueueStatus;
export type QueueTypeConfig = D.QueueTypeConfig;
export type RecurringJobOptions = D.RecurringJobOptions;
export type RepeatableJob = D.RepeatableJob;
export type RetryDecision = D.RetryDecision;
export type RetryHandler = C.RetryHandler;
export type RetryStatistics = D.RetryStatistics;
export type ScalingResult = D.ScalingResult;
export type ScheduleOptions = D.ScheduleOptions;
export type SecurityConfig = D.SecurityConfig;
export type SystemMetricsSnapshot = D.SystemMetricsSnapshot;
export type ThumbnailSize = D.ThumbnailSize;
export type WatermarkConfig = D.WatermarkConfig;
export type WorkerManager = C.WorkerManager;
export type WorkerMetricsSnapshot = D.WorkerMetricsSnapshot;
export type WorkerOptions = B.WorkerOptions;
export type WorkerPool = D.WorkerPool;
export type WorkerPoolConfig<T = any, R = any> = D.WorkerPoolConfig<T, R>;
export type WorkerPoolManager = C.WorkerPoolManager;
export type WorkerStatus = D.WorkerStatus;

/** The coordinator class (the design's JobQueueCoordinator), as a value and as a type. */
export declare const JobQueueCoordinator: typeof CoordinatorClass;
export type JobQueueCoordinator = CoordinatorClass;
