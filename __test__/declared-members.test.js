'use strict';
// Every method index.d.ts declares on an exported class (the coordinator, its managers,
// BullMQ's Queue, Worker, Job and QueueEvents, the error classes) exists at runtime, static
// ones included, so a declared-but-missing method fails here. The coordinator's manager
// properties are checked against the manager classes they are declared as.
const test = require('node:test');
const assert = require('node:assert');
const { join } = require('node:path');
const ts = require('typescript');
const pkg = require('..');

const root = join(__dirname, '..');
const program = ts.createProgram([join(root, 'index.d.ts')], { strict: true, noEmit: true, types: ['node'] });
const checker = program.getTypeChecker();
const moduleSymbol = checker.getSymbolAtLocation(program.getSourceFile(join(root, 'index.d.ts')));
const exportsByName = new Map(checker.getExportsOfModule(moduleSymbol).map((s) => [s.name, s]));

const isMethod = (d) => ts.isMethodDeclaration(d) || ts.isMethodSignature(d);
const isOurs = (d) => !d.getSourceFile().fileName.includes('node_modules');

/** Names of the methods a type declares (inherited ones too, but not Node's EventEmitter's). */
function methodsOf(type) {
  return type
    .getProperties()
    .filter((p) => (p.declarations ?? []).some((d) => isMethod(d) && isOurs(d)))
    .map((p) => p.name)
    .sort();
}

/** The constructor and instance types of an exported class (or const of a class type). */
function classTypes(name) {
  const symbol = exportsByName.get(name);
  assert.ok(symbol, `${name} is exported by index.d.ts`);
  const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
  const decl = target.valueDeclaration ?? target.declarations.find((d) => ts.isClassDeclaration(d) || ts.isVariableDeclaration(d));
  const ctorType = checker.getTypeOfSymbolAtLocation(target, decl);
  const instance = ctorType.getConstructSignatures()[0]?.getReturnType();
  assert.ok(instance, `${name} is declared as a class`);
  return { ctorType, instance };
}

/** The declared instance and static methods of an exported class. */
function declaredClass(name) {
  const { ctorType, instance } = classTypes(name);
  return { instance: methodsOf(instance), statics: methodsOf(ctorType) };
}

const CLASSES = [
  'JobQueueCoordinator',
  'JobQueueCoordinatorImpl',
  'QueueManagerImpl',
  'JobSchedulerImpl',
  'WorkerManagerImpl',
  'WorkerPoolManagerImpl',
  'RetryHandlerImpl',
  'DeadLetterHandlerImpl',
  'JobQueueMetricsImpl',
  'QueueHealthCheckerImpl',
  'PerformanceOptimizerImpl',
  'JobSecurityManagerImpl',
  'JobAccessControlImpl',
  'ClientCoordinator',
  'Queue',
  'Worker',
  'Job',
  'AddedJob',
  'ActiveJob',
  'QueueEvents',
  'ValidationError',
  'UnrecoverableError',
];

for (const name of CLASSES) {
  test(`every method index.d.ts declares on ${name} exists at runtime`, () => {
    const { instance, statics } = declaredClass(name);
    assert.ok(instance.length > 0 || name.endsWith('Error'), `${name} declares methods`);
    if (name === 'JobQueueCoordinator') assert.ok(instance.length > 60, `the coordinator's ${instance.length} methods are all seen`);
    const Runtime = pkg[name];
    assert.strictEqual(typeof Runtime, 'function', `${name} is a class at runtime`);
    const missing = instance.filter((m) => typeof Runtime.prototype[m] !== 'function');
    assert.deepStrictEqual(missing, [], `${name}: declared instance methods missing at runtime`);
    const missingStatic = statics.filter((m) => typeof Runtime[m] !== 'function');
    assert.deepStrictEqual(missingStatic, [], `${name}: declared static methods missing at runtime`);
  });
}

test("the coordinator's manager properties hold instances of the declared manager classes", () => {
  const coordinator = new pkg.JobQueueCoordinator(); // building one touches no Redis
  const coordinatorType = classTypes('JobQueueCoordinator').instance;
  const props = coordinatorType
    .getProperties()
    .filter((p) => (p.declarations ?? []).some((d) => ts.isPropertyDeclaration(d) && isOurs(d)));
  const managers = [];
  for (const p of props) {
    const type = checker.getTypeOfSymbolAtLocation(p, p.declarations[0]);
    const className = type.getSymbol()?.getName();
    if (!className || !className.endsWith('Impl')) continue;
    managers.push(p.name);
    assert.ok(coordinator[p.name] instanceof pkg[className], `coordinator.${p.name} is a ${className}`);
    const missing = methodsOf(type).filter((m) => typeof coordinator[p.name][m] !== 'function');
    assert.deepStrictEqual(missing, [], `coordinator.${p.name}: declared methods missing`);
  }
  assert.deepStrictEqual(managers.sort(), [
    'accessControl',
    'deadLetterHandler',
    'healthChecker',
    'jobScheduler',
    'metricsCollector',
    'performanceOptimizer',
    'queueManager',
    'retryHandler',
    'securityManager',
    'workerManager',
    'workerPoolManager',
  ]);
});

test('a declared method that is missing at runtime is caught (the check can fail)', () => {
  const { instance } = declaredClass('Queue');
  assert.ok(instance.includes('add') && instance.includes('upsertJobScheduler'));
  class Partial {}
  Partial.prototype.add = () => {};
  assert.ok(instance.filter((m) => typeof Partial.prototype[m] !== 'function').includes('upsertJobScheduler'));
});

/** Every interface name the design declares. */
const DESIGN_INTERFACES = [
  'AutoScalingPolicy',
  'BackoffOptions',
  'BatchProcessingJob',
  'BottleneckAnalysis',
  'CleanupJob',
  'DeadLetterHandler',
  'FailedJob',
  'FailedJobStatistics',
  'HealthIssue',
  'HealthRecommendation',
  'JobAccessControl',
  'JobLogEntry',
  'JobProcessingContext',
  'JobQueueCoordinator',
  'JobQueueCoordinatorConfig',
  'JobQueueMetrics',
  'JobQueueMetricsSnapshot',
  'JobScheduler',
  'JobSecurityManager',
  'JobState',
  'ManagedWorker',
  'OptimizationAction',
  'OptimizationResult',
  'PerformanceOptimizer',
  'Permission',
  'PermissionCondition',
  'PhotoProcessingJob',
  'PipelineConfig',
  'ProcessingStage',
  'QueueConfig',
  'QueueHealthChecker',
  'QueueHealthMetrics',
  'QueueHealthStatus',
  'QueueManager',
  'QueueMetrics',
  'QueueMetricsSnapshot',
  'QueueStatus',
  'QueueTypeConfig',
  'RecurringJobOptions',
  'RepeatableJob',
  'RetryDecision',
  'RetryHandler',
  'RetryStatistics',
  'ScalingResult',
  'ScheduleOptions',
  'SecurityConfig',
  'SystemMetricsSnapshot',
  'ThumbnailSize',
  'WatermarkConfig',
  'WorkerManager',
  'WorkerMetricsSnapshot',
  'WorkerOptions',
  'WorkerPool',
  'WorkerPoolConfig',
  'WorkerPoolManager',
  'WorkerStatus',
];

test('index.d.ts itself declares every interface name of the design', () => {
  const file = program.getSourceFile(join(root, 'index.d.ts'));
  const local = new Set();
  for (const statement of file.statements) {
    if ((ts.isTypeAliasDeclaration(statement) || ts.isInterfaceDeclaration(statement) || ts.isClassDeclaration(statement)) && statement.name) {
      local.add(statement.name.text);
    }
  }
  const missing = DESIGN_INTERFACES.filter((n) => !local.has(n) || !exportsByName.has(n));
  assert.deepStrictEqual(missing, []);
});

test('types/admin.d.ts: every declared function of @shared-infra/job-queue/admin exists, and a server has the AdminServer members', async () => {
  const file = join(root, 'types', 'admin.d.ts');
  const adminProgram = ts.createProgram([file], { strict: true, noEmit: true, types: ['node'] });
  const adminChecker = adminProgram.getTypeChecker();
  const symbols = adminChecker.getExportsOfModule(adminChecker.getSymbolAtLocation(adminProgram.getSourceFile(file)));
  const functions = symbols.filter((s) => (s.declarations ?? []).some((d) => ts.isFunctionDeclaration(d))).map((s) => s.name).sort();
  assert.deepStrictEqual(functions, ['adminOptionsFromEnv', 'createAdminServer']);
  const admin = require('../lib/admin');
  for (const name of functions) assert.strictEqual(typeof admin[name], 'function', `${name} exists at runtime`);
  const serverType = adminChecker.getDeclaredTypeOfSymbol(symbols.find((s) => s.name === 'AdminServer'));
  const members = serverType.getProperties().map((p) => p.name).sort();
  assert.deepStrictEqual(members, ['close', 'host', 'port', 'url']);
  const coordinator = new pkg.JobQueueCoordinator();
  const server = await admin.createAdminServer(coordinator, { port: 0, ui: false, auth: { jwtSecret: 'x'.repeat(32) } });
  try {
    for (const m of members) assert.notStrictEqual(server[m], undefined, `AdminServer.${m} exists`);
    assert.strictEqual(typeof server.close, 'function');
  } finally {
    await server.close();
    await coordinator.shutdown();
  }
});
