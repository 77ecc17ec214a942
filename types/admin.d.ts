// @shared-infra/job-queue/admin: the HTTP admin service over a coordinator (README, "Admin
// service").

import type { KeyObject } from 'node:crypto';
import type { JobQueueCoordinator } from './coordinator';

/** How bearer tokens are verified: exactly one of `jwtSecret`, `publicKey`, `jwksUrl`. */
export interface AdminAuthOptions {
  /** HS256 shared secret, at least 32 bytes. */
  jwtSecret?: string | Uint8Array;
  /** A public key (PEM, JWK object or KeyObject): RSA → RS256, EC P-256 → ES256 (P-384/521 →
   * ES384/512), RSA-PSS → PS256, Ed25519 → EdDSA. */
  publicKey?: string | KeyObject | Record<string, unknown>;
  /** A JWKS URL (http or https); asymmetric algorithms only. */
  jwksUrl?: string;
  /** Required `iss` (one or any of several). */
  issuer?: string | string[];
  /** Required `aud` (one or any of several). */
  audience?: string | string[];
  /** Algorithms accepted instead of the default for the key. */
  algorithms?: string[];
  /** Seconds of clock skew allowed for `exp` and `nbf` (default 0). */
  clockTolerance?: number;
}

export interface AdminServerOptions {
  /** Address to listen on (default 127.0.0.1). */
  host?: string;
  /** Port (default 3000); 0 picks a free one. */
  port?: number;
  auth: AdminAuthOptions;
  /** Bull Board at /ui (default true). */
  ui?: boolean;
  /** How long /ready waits for Redis before answering 503 (default 2000 ms). */
  readyTimeoutMs?: number;
  /** fastify's trustProxy: believe X-Forwarded-* from a proxy in front (default false). */
  trustProxy?: boolean | string | string[] | number;
  /** The sign-in cookie's Secure flag (default: set when the request came over HTTPS). */
  cookieSecure?: boolean;
  /** Largest request body in bytes (default 1 MiB). */
  bodyLimit?: number;
}

export interface AdminServer {
  /** `http://host:port` it listens on. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** Stops accepting requests and closes the server (the coordinator stays open). */
  close(): Promise<void>;
}

/** Starts the admin service and resolves once it listens. Bad options: a ValidationError. */
export declare function createAdminServer(coordinator: JobQueueCoordinator, options: AdminServerOptions): Promise<AdminServer>;

/** `{ host, port, auth }` from PORT, ADMIN_HOST and the ADMIN_JWT_* variables. */
export declare function adminOptionsFromEnv(env?: Record<string, string | undefined>): AdminServerOptions;
