// `npm start`'s prestart: builds the web app when packages/web/dist is missing or older than its
// sources, so `npm install && npm start` serves the current UI. A no-op (a few ms) otherwise.
import { ensureWebBuilt } from '../index.ts';

try {
  if (await ensureWebBuilt({ quiet: true })) console.error('cascade: built the web app (packages/web/dist)');
} catch (err) {
  console.error(`cascade: could not build the web app: ${(err as Error).message}`);
  process.exit(1);
}
