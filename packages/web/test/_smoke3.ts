import { buildApp } from '@cascade/server';
setTimeout(() => { console.error('still waiting', process.getActiveResourcesInfo()); process.exit(3); }, 5000).unref();
const ctx: any = { node: {}, downloadDir: '/tmp', maxUploadBytes: 1e9, streamWaitMs: 1000, announceUrls: () => [], endpoints: () => ({ http: 0 }), bittorrentHost: '127.0.0.1', changed() {} };
const t0 = Date.now();
const origReg = (await import('fastify')).default;
const app = await buildApp(ctx, { webRoot: '/work/main/packages/web/dist' });
console.error('built app', Date.now() - t0);
await app.close();
