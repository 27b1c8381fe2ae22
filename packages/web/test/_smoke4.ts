import { startTracker } from '@cascade/tracker';
setTimeout(() => { console.error('still waiting', process.getActiveResourcesInfo()); process.exit(3); }, 5000).unref();
const t0 = Date.now();
const tr = await startTracker({ host: '127.0.0.1', httpPort: 0, udpPort: 0, ws: false } as any);
console.error('tracker', Date.now() - t0, (tr as any).wsAnnounceUrl);
await tr.close();
console.error('closed');
