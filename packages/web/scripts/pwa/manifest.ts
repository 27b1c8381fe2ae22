// The web app manifest: what makes the node's page an installable app on a phone or desktop, and
// what puts Cascade in the phone's share sheet. URLs are relative to the manifest (the app's root),
// so a node served under a path prefix installs as well.

/** styles.css --bg of the light theme: the splash screen behind the icon while the app starts. */
export const LIGHT_BACKGROUND = '#f5f6fa';
/** styles.css --bg-elev of the light theme, the top bar's colour: the phone's status bar matches
 *  it. index.html's theme-color metas say the same, and --bg-elev of the dark theme for dark. */
export const LIGHT_BAR = '#ffffff';

/** Where the phone's share sheet posts: the service worker answers it (src/sw/service-worker.ts),
 *  the server only when no service worker runs (packages/http, app/web.ts). */
export const SHARE_TARGET_PATH = 'share-target';
/** The multipart field the shared files come in. */
export const SHARE_TARGET_FILES = 'files';

export function webManifest(): Record<string, unknown> {
  return {
    id: './',
    name: 'Cascade',
    short_name: 'Cascade',
    description: 'Share files and download torrents through your Cascade node.',
    lang: 'en',
    start_url: './',
    scope: './',
    display: 'standalone',
    // One colour per field: the light theme's. The page's theme-color metas (light and dark) take
    // over once it runs.
    background_color: LIGHT_BACKGROUND,
    theme_color: LIGHT_BAR,
    icons: [
      { src: 'icons/icon-192.png', sizes: '192x192', type: 'image/png', purpose: 'any' },
      { src: 'icons/icon-512.png', sizes: '512x512', type: 'image/png', purpose: 'any' },
      { src: 'icons/maskable-192.png', sizes: '192x192', type: 'image/png', purpose: 'maskable' },
      { src: 'icons/maskable-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
      { src: 'icons/icon.svg', sizes: 'any', type: 'image/svg+xml', purpose: 'any' },
    ],
    // One share target takes both: files come as multipart (→ the Share page), a shared link or
    // text alone goes to the Add page. The user confirms either in the page; nothing reaches the
    // node before that.
    share_target: {
      action: SHARE_TARGET_PATH,
      method: 'POST',
      enctype: 'multipart/form-data',
      params: {
        title: 'title',
        text: 'text',
        url: 'url',
        files: [{ name: SHARE_TARGET_FILES, accept: ['*/*', '.torrent', 'application/x-bittorrent'] }],
      },
    },
  };
}
