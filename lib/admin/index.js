'use strict';
// @shared-infra/job-queue/admin: the HTTP admin service (health and readiness probes,
// Prometheus metrics, queue status, scaling, failed jobs, pause/resume, the audit log) behind
// JWT authentication, with Bull Board at /ui. Its dependencies (fastify, jose, Bull Board)
// load only through this entry, never through the core package.
//
// One `exports.Name = ...;` line per export, so ES modules can import them by name.

exports.createAdminServer = require('./server').createAdminServer;
exports.adminOptionsFromEnv = require('./env').adminOptionsFromEnv;
