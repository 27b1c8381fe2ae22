// Debug-only: make the tracker's synchronous dgram lookup asynchronous (works around a hang).
import dgram from 'node:dgram';
const orig = dgram.createSocket;
(dgram as any).createSocket = function (opts: any, cb?: any) {
  if (opts && typeof opts === 'object' && typeof opts.lookup === 'function') {
    const l = opts.lookup;
    opts = { ...opts, lookup: (a: any, o: any, c: any) => l(a, o, (...r: any[]) => process.nextTick(() => c(...r))) };
  }
  return orig.call(this, opts, cb);
};
