import { Session } from '@cascade/engine';
const t0 = Date.now();
setTimeout(() => { console.error('still waiting', process.getActiveResourcesInfo()); }, 5000).unref();
const s = await (Session as any).create({ port: 0, host: '127.0.0.1', dht: false });
console.error('session', Date.now() - t0, s.port);
await s.close();
console.error('closed', Date.now() - t0);
