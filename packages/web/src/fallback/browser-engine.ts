// Stand-in for packages/engine/browser.ts when this build has no in-browser engine.
export class BrowserSession {
  constructor() {
    throw new Error('this build of the web app has no in-browser BitTorrent engine (packages/engine/browser.ts)');
  }
}
