// The admin entry's types (@shared-infra/job-queue/admin) accept its documented use and
// reject what they should.
import { createAdminServer, adminOptionsFromEnv, type AdminServer } from '@shared-infra/job-queue/admin';
import { JobQueueCoordinator } from '@shared-infra/job-queue';

async function main(): Promise<void> {
  const coordinator = new JobQueueCoordinator();
  const admin: AdminServer = await createAdminServer(coordinator, {
    host: '127.0.0.1',
    port: 0,
    auth: { jwtSecret: 'a secret of at least thirty-two bytes', issuer: 'https://id.example', audience: ['job-queue'] },
  });
  const url: string = admin.url;
  void url;
  await admin.close();
  await createAdminServer(coordinator, { ...adminOptionsFromEnv(process.env), ui: false });
  await createAdminServer(coordinator, { auth: { jwksUrl: 'https://id.example/.well-known/jwks.json', algorithms: ['ES256'] } });
  // @ts-expect-error auth is required
  await createAdminServer(coordinator, { port: 0 });
  // @ts-expect-error the port is a number
  await createAdminServer(coordinator, { port: '3000', auth: { jwtSecret: 'x' } });
}
void main;
