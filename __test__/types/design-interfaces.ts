// The design's interfaces, copied verbatim into the namespace `Design` (only `export` added and
// the enum left out), checked against the package's exported types in both directions: what
// the design builds is accepted by the package's types, and what the package returns reads as
// the design's type. Names the design uses without defining them (Queue, Job, Worker, JobOptions,
// QueueOptions, CoordinatorStatus, MetricsCollector, ScalingRecommendation) are the package's.
import {
  JobStatus,
  type Queue,
  type Job,
  type Worker,
  type JobOptions,
  type QueueOptions,
  type CoordinatorStatus,
  type MetricsCollector,
  type ScalingRecommendation,
} from '@shared-infra/job-queue';
import type * as P from '@shared-infra/job-queue';

export namespace Design {
  export interface JobQueueCoordinator {
    // Core Interfaces
    queueManager: QueueManager;
    jobScheduler: JobScheduler;
    workerManager: WorkerManager;
    retryHandler: RetryHandler;
    deadLetterHandler: DeadLetterHandler;
    metricsCollector: MetricsCollector;
    
    // Lifecycle Methods
    initialize(): Promise<void>;
    shutdown(): Promise<void>;
    
    // Queue Operations
    createQueue(config: QueueConfig): Promise<Queue>;
    enqueueJob<T>(queueName: string, jobData: T, options?: JobOptions): Promise<Job<T>>;
    
    // Worker Operations
    registerWorker(queueName: string, processor: JobProcessor): Promise<Worker>;
    
    // Monitoring
    getStatus(): Promise<CoordinatorStatus>;
  }

  export interface QueueManager {
    createQueue(name: string, config: QueueConfig): Promise<Queue>;
    getQueue(name: string): Queue | null;
    getAllQueues(): Map<string, Queue>;
    destroyQueue(name: string): Promise<void>;
    pauseQueue(name: string): Promise<void>;
    resumeQueue(name: string): Promise<void>;
    getQueueStatus(name: string): Promise<QueueStatus>;
  }

  export interface QueueConfig {
    name: string;
    concurrency?: number;
    rateLimit?: {
      max: number;
      duration: number;
    };
    defaultJobOptions?: Partial<JobOptions>;
    stalledInterval?: number;
    retryProcessDelay?: number;
    maxStalledCount?: number;
    cleanup?: {
      enabled: boolean;
      removeOnComplete?: number;
      removeOnFail?: number;
      completedJobAge?: number;
      failedJobAge?: number;
      interval?: number;
    };
  }

  export interface QueueStatus {
    name: string;
    isPaused: boolean;
    jobCounts: {
      active: number;
      waiting: number;
      completed: number;
      failed: number;
      delayed: number;
    };
    workers: number;
    processingRate: number;
    averageProcessingTime: number;
  }

  export interface JobScheduler {
    scheduleJob<T>(
      queueName: string,
      jobName: string,
      data: T,
      options: ScheduleOptions
    ): Promise<Job<T>>;
    
    scheduleRecurringJob<T>(
      queueName: string,
      jobName: string,
      data: T,
      cronExpression: string,
      options?: RecurringJobOptions
    ): Promise<RepeatableJob>;
    
    cancelScheduledJob(queueName: string, jobId: string): Promise<void>;
    getScheduledJobs(queueName: string): Promise<Job[]>;
    updateJobPriority(queueName: string, jobId: string, priority: number): Promise<void>;
  }

  export interface ScheduleOptions {
    priority?: number;
    delayMs?: number;
    maxRetries?: number;
    backoffStrategy?: BackoffOptions;
    removeOnComplete?: number | boolean;
    removeOnFail?: number | boolean;
    jobId?: string;
    traceId?: string;
  }

  export interface RecurringJobOptions {
    priority?: number;
    maxRetries?: number;
    backoffStrategy?: BackoffOptions;
    removeOnComplete?: number;
    removeOnFail?: number;
    timezone?: string;
    startDate?: Date;
    endDate?: Date;
    maxRuns?: number;
  }

  export interface RepeatableJob {
    id: string;
    name: string;
    data: any;
    cronExpression: string;
    options: JobOptions;
    nextRun: Date;
  }

  export interface BackoffOptions {
    type: 'fixed' | 'exponential';
    delay: number;
    maxDelay?: number;
  }

  export interface WorkerManager {
    registerWorker(
      queueName: string,
      processor: JobProcessor,
      options?: WorkerOptions
    ): Promise<Worker>;
    
    unregisterWorker(workerId: string): Promise<void>;
    getWorkers(queueName?: string): Worker[];
    getWorkerStatus(workerId: string): Promise<WorkerStatus>;
    scaleWorkers(queueName: string, targetCount: number): Promise<ScalingResult>;
    pauseWorker(workerId: string): Promise<void>;
    resumeWorker(workerId: string): Promise<void>;
  }

  export interface ManagedWorker {
    id: string;
    worker: Worker;
    queueName: string;
    processor: JobProcessor;
    options: WorkerOptions;
    status: 'active' | 'paused' | 'error' | 'stale';
    registeredAt: Date;
    lastActivity: Date;
    processedJobs: number;
    failedJobs: number;
  }

  export interface WorkerOptions {
    concurrency?: number;
    connection?: any;
    rateLimiter?: {
      max: number;
      duration: number;
    };
    stalledInterval?: number;
    maxStalledCount?: number;
  }

  export interface WorkerStatus {
    id: string;
    queueName: string;
    status: 'active' | 'paused' | 'error' | 'stale';
    processedJobs: number;
    failedJobs: number;
    uptime: number;
    lastActivity: Date;
  }

  export interface ScalingResult {
    queueName: string;
    previousCount: number;
    targetCount: number;
    actualCount: number;
    action: 'scaled_up' | 'scaled_down' | 'no_change';
  }

  export interface JobProcessingContext {
    workerId: string;
    queueName: string;
    jobId: string;
    attemptNumber: number;
    startTime: number;
  }

  export type JobProcessor = (job: Job, context?: JobProcessingContext) => Promise<any>;

  export interface PhotoProcessingJob {
    // Identity
    id: string;
    photoId: string;
    
    // Storage References
    storage: {
      s3Key: string;
      bucket: string;
      originalSize: number;
      mimeType: string;
      etag?: string;
    };
    
    // Processing Configuration
    pipeline: {
      name: string;
      stages: ProcessingStage[];
      priority: number;
      configuration?: PipelineConfig;
    };
    
    // Context
    context: {
      clientId: string;
      sessionId?: string;
      uploadedAt: string;
      traceId: string;
      retryCount?: number;
    };
    
    // Metadata
    metadata: {
      originalFilename?: string;
      fileSize: number;
      dimensions?: { width: number; height: number };
      exifData?: Record<string, any>;
    };
  }

  export interface ProcessingStage {
    name: string;
    enabled: boolean;
    configuration?: Record<string, any>;
    dependencies?: string[];
    timeout?: number;
  }

  export interface PipelineConfig {
    thumbnailSizes?: ThumbnailSize[];
    compressionQuality?: number;
    outputFormat?: string;
    preserveExif?: boolean;
    watermark?: WatermarkConfig;
  }

  export interface ThumbnailSize {
    name: string;
    width: number;
    height: number;
    crop?: boolean;
  }

  export interface WatermarkConfig {
    enabled: boolean;
    text?: string;
    image?: string;
    position: 'top-left' | 'top-right' | 'bottom-left' | 'bottom-right' | 'center';
    opacity: number;
  }

  export interface BatchProcessingJob {
    id: string;
    batchId: string;
    photoIds: string[];
    batchSize: number;
    pipeline: string;
    clientId: string;
    priority: number;
    metadata: {
      totalPhotos: number;
      estimatedDuration: number;
      createdAt: string;
    };
  }

  export interface CleanupJob {
    id: string;
    type: 'orphan_cleanup' | 'expired_files' | 'failed_uploads';
    scope: {
      buckets?: string[];
      olderThan?: string;
      dryRun?: boolean;
    };
    metadata: {
      scheduledAt: string;
      estimatedItems: number;
    };
  }

  // (the design's `enum JobStatus` is checked against the package's below: TypeScript enums
  // are nominal, so a copy here would be a different type)

  export interface JobState {
    id: string;
    status: JobStatus;
    progress: number;
    createdAt: Date;
    processedAt?: Date;
    completedAt?: Date;
    failedAt?: Date;
    attempts: number;
    maxAttempts: number;
    error?: string;
    result?: any;
    logs: JobLogEntry[];
  }

  export interface JobLogEntry {
    timestamp: Date;
    level: 'info' | 'warn' | 'error' | 'debug';
    message: string;
    metadata?: Record<string, any>;
  }

  export interface QueueTypeConfig {
    name: string;
    displayName: string;
    description: string;
    defaultOptions: QueueOptions;
    jobTypes: string[];
    scaling: {
      minWorkers: number;
      maxWorkers: number;
      scalingThreshold: number;
    };
  }

  export interface QueueHealthChecker {
    checkQueueHealth(queueName: string): Promise<QueueHealthStatus>;
    getAllQueuesHealth(): Promise<Map<string, QueueHealthStatus>>;
    getHealthRecommendations(queueName: string): Promise<HealthRecommendation[]>;
  }

  export interface QueueHealthStatus {
    queueName: string;
    status: HealthStatus;
    message: string;
    metrics: QueueHealthMetrics | null;
    issues: HealthIssue[];
  }

  export interface QueueHealthMetrics {
    jobCounts: {
      active: number;
      waiting: number;
      completed: number;
      failed: number;
      delayed: number;
    };
    activeWorkers: number;
    isPaused: boolean;
    processingRate: number;
    averageWaitTime: number;
    errorRate: number;
  }

  export interface HealthIssue {
    severity: 'info' | 'warning' | 'critical';
    message: string;
  }

  export type HealthStatus = 'healthy' | 'degraded' | 'unhealthy' | 'unknown';

  export interface HealthRecommendation {
    type: 'scale_workers' | 'adjust_settings' | 'investigate_errors' | 'resume_queue';
    priority: 'low' | 'medium' | 'high';
    description: string;
    action: string;
  }

  export interface WorkerPool {
    queueName: string;
    minWorkers: number;
    maxWorkers: number;
    currentWorkers: number;
    targetWorkers: number;
    autoScaling: boolean;
    lastScalingEvent?: Date;
  }

  export interface WorkerPoolManager {
    createWorkerPool(queueName: string, config: WorkerPoolConfig): Promise<WorkerPool>;
    scaleWorkerPool(queueName: string, targetWorkers: number): Promise<ScalingResult>;
    enableAutoScaling(queueName: string, policy: AutoScalingPolicy): Promise<void>;
    disableAutoScaling(queueName: string): Promise<void>;
    getWorkerPool(queueName: string): WorkerPool | null;
    getAllWorkerPools(): Map<string, WorkerPool>;
  }

  export interface WorkerPoolConfig {
    minWorkers: number;
    maxWorkers: number;
    initialWorkers: number;
    autoScaling?: boolean;
    processor: JobProcessor;
    workerOptions?: WorkerOptions;
  }

  export interface AutoScalingPolicy {
    targetProcessingTime: number;
    scalingFactor: number;
    scaleUpCooldown: number;
    scaleDownCooldown: number;
    maxScaleUpStep: number;
    maxScaleDownStep: number;
  }

  export interface QueueMetrics {
    waiting: number;
    active: number;
    completed: number;
    failed: number;
    delayed: number;
    activeWorkers: number;
    processingRate: number;
    averageProcessingTime: number;
  }

  export interface RetryHandler {
    calculateRetryDelay(attempt: number, options: BackoffOptions): number;
    shouldRetry(error: Error, attempt: number, maxAttempts: number): boolean;
    handleJobRetry(job: Job, error: Error): Promise<RetryDecision>;
    getRetryStatistics(queueName: string): Promise<RetryStatistics>;
  }

  export interface RetryDecision {
    action: 'retry' | 'fail';
    reason: string;
    delay: number;
  }

  export interface RetryStatistics {
    queueName: string;
    totalRetries: number;
    retriesByAttempt: Record<string, number>;
    retriesByErrorType: Record<string, number>;
    averageRetryDelay: number;
    retrySuccessRate: number;
  }

  export interface DeadLetterHandler {
    handleFailedJob(job: Job, error: Error): Promise<void>;
    getFailedJobs(queueName: string, limit?: number): Promise<FailedJob[]>;
    requeueFailedJob(queueName: string, jobId: string): Promise<void>;
    archiveFailedJob(queueName: string, jobId: string): Promise<void>;
    purgeFailedJobs(queueName: string, olderThan?: Date): Promise<number>;
    getFailedJobStatistics(queueName: string): Promise<FailedJobStatistics>;
  }

  export interface FailedJob {
    id: string;
    queueName: string;
    name: string;
    data: any;
    error: {
      name: string;
      message: string;
      stack?: string;
    };
    attempts: number;
    failedAt: Date;
    originalJobOptions: any;
  }

  export interface FailedJobStatistics {
    queueName: string;
    totalFailedJobs: number;
    failuresByJobType: Record<string, number>;
    failuresByErrorType: Record<string, number>;
    oldestFailure?: Date;
    recentFailureRate: number;
  }

  export interface JobQueueMetrics {
    collectMetrics(): Promise<JobQueueMetricsSnapshot>;
    getQueueMetrics(queueName: string): Promise<QueueMetricsSnapshot>;
    getWorkerMetrics(workerId?: string): Promise<WorkerMetricsSnapshot>;
    exportPrometheusMetrics(): Promise<string>;
  }

  export interface JobQueueMetricsSnapshot {
    timestamp: Date;
    queues: Map<string, QueueMetricsSnapshot>;
    workers: WorkerMetricsSnapshot;
    system: SystemMetricsSnapshot;
  }

  export interface QueueMetricsSnapshot {
    name: string;
    isPaused: boolean;
    jobCounts: {
      waiting: number;
      active: number;
      completed: number;
      failed: number;
      delayed: number;
    };
    processingRate: number;
    throughput: number;
    averageProcessingTime: number;
    errorRate: number;
  }

  export interface WorkerMetricsSnapshot {
    totalWorkers: number;
    activeWorkers: number;
    workersByQueue: Record<string, number>;
    averageJobsPerWorker: number;
  }

  export interface SystemMetricsSnapshot {
    memory: {
      heapUsed: number;
      heapTotal: number;
      external: number;
      rss: number;
    };
    cpu: {
      user: number;
      system: number;
    };
    uptime: number;
  }

  export interface PerformanceOptimizer {
    optimizeQueue(queueName: string): Promise<OptimizationResult>;
    analyzeBottlenecks(queueName: string): Promise<BottleneckAnalysis>;
    recommendScaling(queueName: string): Promise<ScalingRecommendation>;
  }

  export interface OptimizationResult {
    queueName: string;
    currentPerformance: number;
    recommendations: OptimizationAction[];
    estimatedImprovement: number;
  }

  export interface OptimizationAction {
    type: string;
    priority: 'low' | 'medium' | 'high';
    description: string;
    expectedImpact: string;
  }

  export interface BottleneckAnalysis {
    queueName: string;
    avgQueueDepth: number;
    avgProcessingTime: number;
    throughput: number;
    errorRate: number;
    memoryUsage: number;
    cpuUsage: number;
  }

  export interface JobSecurityManager {
    validateJobData(queueName: string, jobName: string, data: any): Promise<void>;
    sanitizeJobInput(data: any): any;
    validateJobExecution(job: Job, context: JobProcessingContext): Promise<void>;
    auditJobActivity(job: Job, action: string, metadata?: any): Promise<void>;
  }

  export interface SecurityConfig {
    maxJobDataSize: number;
    maxJobAge: number;
    enableAuditLogging: boolean;
    rateLimiting: {
      enabled: boolean;
      maxJobsPerMinute: number;
      windowMs: number;
    };
  }

  export interface JobAccessControl {
    canEnqueueJob(clientId: string, queueName: string, jobType: string): Promise<boolean>;
    canViewQueue(clientId: string, queueName: string): Promise<boolean>;
    canManageQueue(clientId: string, queueName: string): Promise<boolean>;
    getClientPermissions(clientId: string): Promise<Permission[]>;
  }

  export interface Permission {
    resource: string;
    actions: string[];
    conditions?: PermissionCondition[];
  }

  export interface PermissionCondition {
    field: string;
    operator: 'equals' | 'in' | 'not_in';
    value: any;
  }

  export interface JobQueueCoordinatorConfig {
    // Redis Configuration
    redis: {
      host: string;
      port: number;
      password?: string;
      db: number;
      keyPrefix: string;
      maxRetriesPerRequest: number;
      retryDelayOnFailover: number;
    };

    // Queue Defaults
    defaultJobOptions: {
      attempts: number;
      backoff: {
        type: 'fixed' | 'exponential';
        delay: number;
        maxDelay?: number;
      };
      removeOnComplete: number | boolean;
      removeOnFail: number | boolean;
      priority: number;
    };

    // Worker Defaults
    defaultWorkerOptions: {
      concurrency: number;
      limiter?: {
        max: number;
        duration: number;
      };
      settings: {
        stalledInterval: number;
        retryProcessDelay: number;
        maxStalledCount: number;
      };
    };

    // Security
    security: {
      maxJobDataSize: number;
      maxJobAge: number;
      enableJobValidation: boolean;
      rateLimiting: {
        enabled: boolean;
        maxJobsPerMinute: number;
      };
    };

    // Monitoring
    monitoring: {
      metricsCollection: {
        enabled: boolean;
        interval: number;
      };
      healthChecks: {
        enabled: boolean;
        interval: number;
      };
    };

    // Performance
    performance: {
      autoScaling: {
        enabled: boolean;
        checkInterval: number;
        cooldownPeriod: number;
      };
      optimization: {
        enabled: boolean;
        analysisInterval: number;
      };
    };
  }
}

// ---------------------------------------------------------------------------------------------
// The checks. `Is<A, B>`: a value of type A may be used where B is expected.
type Is<A, B> = [A] extends [B] ? true : false;
type Assert<T extends true> = T;
/** Both directions: the design's values are accepted, and the package's read as the design's. */
type Mutual<A, B> = [Is<A, B>, Is<B, A>] extends [true, true] ? true : false;

export type Checks = [
  // queues
  Assert<Mutual<Design.QueueConfig, P.QueueConfig>>,
  Assert<Is<P.QueueStatus, Design.QueueStatus>>, // the package's adds 001's counts and health
  Assert<Mutual<Design.QueueTypeConfig, P.QueueTypeConfig>>,
  Assert<Mutual<Design.QueueHealthStatus, P.QueueHealthStatus>>,
  Assert<Mutual<Design.QueueHealthMetrics, P.QueueHealthMetrics>>,
  Assert<Mutual<Design.HealthIssue, P.HealthIssue>>,
  Assert<Mutual<Design.HealthStatus, P.HealthStatus>>,
  Assert<Mutual<Design.HealthRecommendation, P.HealthRecommendation>>,
  // jobs and scheduling
  Assert<Is<Design.ScheduleOptions, P.ScheduleOptions>>,
  Assert<Is<Design.RecurringJobOptions, P.RecurringJobOptions>>,
  Assert<Mutual<Design.RepeatableJob, P.RepeatableJob>>,
  Assert<Mutual<Design.BackoffOptions, P.BackoffOptions>>,
  Assert<Mutual<Design.JobState, P.JobState>>,
  Assert<Mutual<Design.JobLogEntry, P.JobLogEntry>>,
  Assert<Mutual<Design.PhotoProcessingJob, P.PhotoProcessingJob>>,
  Assert<Mutual<Design.ProcessingStage, P.ProcessingStage>>,
  Assert<Mutual<Design.PipelineConfig, P.PipelineConfig>>,
  Assert<Mutual<Design.ThumbnailSize, P.ThumbnailSize>>,
  Assert<Mutual<Design.WatermarkConfig, P.WatermarkConfig>>,
  Assert<Mutual<Design.BatchProcessingJob, P.BatchProcessingJob>>,
  Assert<Mutual<Design.CleanupJob, P.CleanupJob>>,
  // workers
  Assert<Mutual<Design.ManagedWorker, P.ManagedWorker>>,
  Assert<Is<Design.WorkerOptions, P.WorkerOptions>>,
  Assert<Mutual<Design.WorkerStatus, P.WorkerStatus>>,
  Assert<Mutual<Design.ScalingResult, P.ScalingResult>>,
  Assert<Mutual<Design.JobProcessingContext, P.JobProcessingContext>>,
  Assert<Is<Design.JobProcessor, P.JobProcessor>>,
  Assert<Is<P.WorkerPool, Design.WorkerPool>>, // the package's adds workerIds and history
  Assert<Is<Design.WorkerPoolConfig, P.WorkerPoolConfig>>, // initialWorkers may be left out (default minWorkers)
  Assert<Mutual<Design.AutoScalingPolicy, P.AutoScalingPolicy>>,
  Assert<Mutual<Design.QueueMetrics, P.QueueMetrics>>,
  // retries and dead letters
  Assert<Mutual<Design.RetryDecision, P.RetryDecision>>,
  Assert<Mutual<Design.RetryStatistics, P.RetryStatistics>>,
  Assert<Mutual<Design.FailedJob, P.FailedJob>>,
  Assert<Mutual<Design.FailedJobStatistics, P.FailedJobStatistics>>,
  // metrics and performance
  Assert<Mutual<Design.JobQueueMetricsSnapshot, P.JobQueueMetricsSnapshot>>,
  Assert<Mutual<Design.QueueMetricsSnapshot, P.QueueMetricsSnapshot>>,
  Assert<Mutual<Design.WorkerMetricsSnapshot, P.WorkerMetricsSnapshot>>,
  Assert<Mutual<Design.SystemMetricsSnapshot, P.SystemMetricsSnapshot>>,
  Assert<Is<P.JobQueueMetricsReport, Design.JobQueueMetricsSnapshot>>,
  Assert<Is<P.QueueMetricsReport, Design.QueueMetricsSnapshot>>,
  Assert<Mutual<Design.OptimizationResult, P.OptimizationResult>>,
  Assert<Mutual<Design.OptimizationAction, P.OptimizationAction>>,
  Assert<Mutual<Design.BottleneckAnalysis, P.BottleneckAnalysis>>,
  // security and configuration
  Assert<Mutual<Design.SecurityConfig, P.SecurityConfig>>,
  Assert<Mutual<Design.Permission, P.Permission>>,
  Assert<Mutual<Design.PermissionCondition, P.PermissionCondition>>,
  Assert<Is<Design.JobQueueCoordinatorConfig, P.JobQueueCoordinatorConfig>>,
  Assert<Is<Design.JobQueueCoordinatorConfig, P.JobQueueCoordinatorOptions>>,
  // the managers: the package's interfaces are the design's, and its classes implement them
  Assert<Is<P.QueueManager, Design.QueueManager>>, // its QueueStatus adds counts and health
  Assert<Mutual<Design.JobScheduler, P.JobScheduler>>,
  Assert<Mutual<Design.WorkerManager, P.WorkerManager>>,
  Assert<Mutual<Design.QueueHealthChecker, P.QueueHealthChecker>>,
  Assert<Is<P.WorkerPoolManager, Design.WorkerPoolManager>>, // its WorkerPool adds workerIds and history
  Assert<Mutual<Design.RetryHandler, P.RetryHandler>>,
  Assert<Mutual<Design.DeadLetterHandler, P.DeadLetterHandler>>,
  Assert<Mutual<Design.JobQueueMetrics, P.JobQueueMetrics>>,
  Assert<Mutual<Design.PerformanceOptimizer, P.PerformanceOptimizer>>,
  Assert<Mutual<Design.JobSecurityManager, P.JobSecurityManager>>,
  Assert<Mutual<Design.JobAccessControl, P.JobAccessControl>>,
  Assert<Is<P.QueueManagerImpl, Design.QueueManager>>,
  Assert<Is<P.JobSchedulerImpl, Design.JobScheduler>>,
  Assert<Is<P.WorkerManagerImpl, Design.WorkerManager>>,
  Assert<Is<P.QueueHealthCheckerImpl, Design.QueueHealthChecker>>,
  Assert<Is<P.WorkerPoolManagerImpl, Design.WorkerPoolManager>>,
  Assert<Is<P.RetryHandlerImpl, Design.RetryHandler>>,
  Assert<Is<P.DeadLetterHandlerImpl, Design.DeadLetterHandler>>,
  Assert<Is<P.JobQueueMetricsImpl, Design.JobQueueMetrics>>,
  Assert<Is<P.JobQueueMetricsImpl, P.MetricsCollector>>,
  Assert<Is<P.PerformanceOptimizerImpl, Design.PerformanceOptimizer>>,
  // the coordinator is the design's JobQueueCoordinator, and so is JobQueueCoordinatorImpl
  Assert<Is<P.JobQueueCoordinator, Design.JobQueueCoordinator>>,
  Assert<Is<P.JobQueueCoordinatorImpl, Design.JobQueueCoordinator>>,
];

// Where the package's type is deliberately wider than the design's (each line must fail):
// @ts-expect-error maxRetriesPerRequest may be null (wait forever) and removeOnComplete/Fail take {age, count}
export type WiderConfig = Assert<Is<P.JobQueueCoordinatorConfig, Design.JobQueueCoordinatorConfig>>;
// @ts-expect-error removeOnComplete/removeOnFail of a scheduled job also take {age, count}
export type WiderScheduleOptions = Assert<Is<P.ScheduleOptions, Design.ScheduleOptions>>;

// The design's enum, member by member: the package's JobStatus has the same names and values.
export const jobStatuses: Record<keyof typeof JobStatus, `${JobStatus}`> = {
  WAITING: 'waiting',
  ACTIVE: 'active',
  COMPLETED: 'completed',
  FAILED: 'failed',
  DELAYED: 'delayed',
  PAUSED: 'paused',
};
export const statusOfDesignJob: JobStatus = JobStatus.WAITING;
