// The chat page's styles; they follow the app's theme variables and fall back to a light palette.
export const CHAT_CSS = `
.cc-root { --cc-bg: var(--bg-elev, #fff); --cc-sunken: var(--bg-sunken, #eceef4); --cc-hover: var(--bg-hover, #f0f2f8);
  --cc-border: var(--border, #dfe2ea); --cc-text: var(--text, #1a1d26); --cc-muted: var(--muted, #5f6677);
  --cc-accent: var(--accent, #3b55d4); --cc-accent-soft: var(--accent-soft, #e6ebff); --cc-on-accent: var(--on-accent, #fff);
  --cc-ok: var(--ok, #167a43); --cc-ok-soft: var(--ok-soft, #dcf5e6); --cc-bad: var(--bad, #b83232); --cc-bad-soft: var(--bad-soft, #fde4e4);
  --cc-info: var(--info, #7c3aed); --cc-info-soft: var(--info-soft, #efe6ff); --cc-radius: var(--radius, 10px);
  --cc-mono: var(--mono, ui-monospace, Menlo, Consolas, monospace);
  display: grid; grid-template-columns: minmax(260px, 320px) 1fr; gap: 16px; height: calc(100vh - 140px); min-height: 520px;
  color: var(--cc-text); font-size: 14px; }
.cc-root * { box-sizing: border-box; }
.cc-root code { font-family: var(--cc-mono); font-size: 12px; }
.cc-side { display: flex; flex-direction: column; gap: 12px; min-height: 0; }
.cc-card { background: var(--cc-bg); border: 1px solid var(--cc-border); border-radius: var(--cc-radius); padding: 12px; }
.cc-me-head { display: flex; align-items: center; gap: 8px; }
.cc-name { flex: 1; font-weight: 600; font-size: 15px; border: 1px solid transparent; background: transparent; color: inherit; padding: 4px 6px; border-radius: 6px; }
.cc-name:hover, .cc-name:focus { border-color: var(--cc-border); background: var(--cc-sunken); outline: none; }
.cc-did { display: flex; gap: 6px; align-items: baseline; margin-top: 6px; }
.cc-did code { word-break: break-all; color: var(--cc-muted); }
.cc-fp { margin-top: 6px; font-size: 12px; color: var(--cc-muted); }
.cc-fp code { color: var(--cc-text); letter-spacing: .03em; }
.cc-row { display: flex; gap: 6px; margin-top: 8px; }
.cc-sub { display: flex; flex-direction: column; gap: 6px; margin-top: 8px; }
.cc-sub input { padding: 6px 8px; border: 1px solid var(--cc-border); border-radius: 6px; background: var(--cc-sunken); color: inherit; }
.cc-status { margin-top: 6px; font-size: 12px; }
.cc-start { display: flex; flex-direction: column; gap: 6px; }
.cc-input { width: 100%; padding: 8px 10px; border: 1px solid var(--cc-border); border-radius: 8px; background: var(--cc-bg); color: inherit; font: inherit; }
.cc-input:focus { outline: 2px solid var(--cc-accent-soft); border-color: var(--cc-accent); }
.cc-btn { border: 1px solid var(--cc-border); background: var(--cc-bg); color: inherit; border-radius: 8px; padding: 8px 14px; font: inherit; cursor: pointer; }
.cc-btn:hover { background: var(--cc-hover); }
.cc-btn:disabled { opacity: .5; cursor: default; }
.cc-primary { background: var(--cc-accent); color: var(--cc-on-accent); border-color: var(--cc-accent); }
.cc-primary:hover { background: var(--cc-accent); filter: brightness(1.08); }
.cc-small { padding: 4px 10px; font-size: 12px; }
.cc-link { border: 0; background: none; color: var(--cc-accent); cursor: pointer; font: inherit; font-size: 12px; padding: 0 2px; }
.cc-muted { color: var(--cc-muted); }
.cc-pad { padding: 12px; }
.cc-dot { display: inline-block; width: 8px; height: 8px; border-radius: 50%; background: var(--cc-border); flex: none; }
.cc-dot.cc-on { background: var(--cc-ok); }
.cc-invites { display: flex; flex-direction: column; gap: 6px; }
.cc-invite { display: flex; justify-content: space-between; align-items: center; gap: 8px; padding: 8px 10px; border-radius: 8px; background: var(--cc-info-soft); }
.cc-list { flex: 1; min-height: 0; overflow: auto; background: var(--cc-bg); border: 1px solid var(--cc-border); border-radius: var(--cc-radius); }
.cc-list ul { list-style: none; margin: 0; padding: 4px; }
.cc-entry { display: flex; flex-direction: column; gap: 2px; width: 100%; text-align: left; border: 0; background: none; color: inherit; padding: 8px 10px; border-radius: 8px; cursor: pointer; font: inherit; }
.cc-entry:hover { background: var(--cc-hover); }
.cc-entry.cc-active { background: var(--cc-accent-soft); }
.cc-entry-top { display: flex; align-items: center; gap: 8px; }
.cc-entry-title { font-weight: 600; flex: 1; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.cc-entry-sub, .cc-entry-last { font-size: 12px; color: var(--cc-muted); overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.cc-entry-sub { font-family: var(--cc-mono); font-size: 11px; }
.cc-hash { color: var(--cc-muted); width: 12px; text-align: center; font-size: 12px; display: inline-flex; justify-content: center; }
.cc-badge { background: var(--cc-accent); color: var(--cc-on-accent); border-radius: 9px; font-size: 11px; padding: 0 6px; min-width: 18px; text-align: center; }
.cc-directory { padding: 8px 12px 12px; display: flex; flex-direction: column; align-items: flex-start; gap: 2px; }
.cc-small-title { font-size: 11px; text-transform: uppercase; letter-spacing: .05em; margin-bottom: 2px; }
.cc-main { display: flex; flex-direction: column; min-height: 0; background: var(--cc-bg); border: 1px solid var(--cc-border); border-radius: var(--cc-radius); overflow: hidden; }
.cc-head { display: flex; justify-content: space-between; align-items: center; gap: 12px; padding: 12px 16px; border-bottom: 1px solid var(--cc-border); }
.cc-head h2 { margin: 0; font-size: 16px; }
.cc-head-sub { font-size: 12px; margin-top: 2px; }
.cc-head-actions { display: flex; align-items: center; gap: 8px; flex-wrap: wrap; justify-content: flex-end; }
.cc-path { font-size: 12px; font-weight: 600; padding: 2px 10px; border-radius: 12px; letter-spacing: .02em; }
.cc-path-p2p { background: var(--cc-ok-soft); color: var(--cc-ok); }
.cc-path-relay { background: var(--cc-sunken); color: var(--cc-muted); }
.cc-e2e { font-size: 12px; color: var(--cc-muted); display: inline-flex; align-items: center; gap: 4px; }
.cc-lock { vertical-align: -1px; }
.cc-safety { padding: 12px 16px; background: var(--cc-sunken); border-bottom: 1px solid var(--cc-border); display: flex; flex-direction: column; gap: 8px; font-size: 13px; }
.cc-safety-number { font-size: 18px !important; letter-spacing: .08em; line-height: 1.6; max-width: 38ch; color: var(--cc-text); }
.cc-members { padding: 8px 16px; border-bottom: 1px solid var(--cc-border); font-size: 13px; }
.cc-members summary { cursor: pointer; color: var(--cc-muted); }
.cc-members ul { list-style: none; margin: 6px 0; padding: 0; display: flex; flex-direction: column; gap: 4px; }
.cc-bad-text { color: var(--cc-bad); }
.cc-notices { display: flex; flex-direction: column; gap: 4px; padding: 8px 16px 0; }
.cc-notice { display: flex; justify-content: space-between; gap: 8px; align-items: flex-start; padding: 6px 10px; border-radius: 8px; font-size: 13px; }
.cc-bad { background: var(--cc-bad-soft); color: var(--cc-bad); }
.cc-info { background: var(--cc-info-soft); color: var(--cc-info); }
.cc-messages { flex: 1; min-height: 0; overflow: auto; padding: 12px 16px; display: flex; flex-direction: column; gap: 6px; }
.cc-msg { display: flex; flex-direction: column; align-items: flex-start; max-width: 72%; }
.cc-msg.cc-mine { align-self: flex-end; align-items: flex-end; }
.cc-msg-name { font-size: 12px; color: var(--cc-muted); margin: 4px 0 2px 4px; }
.cc-bubble { padding: 8px 12px; border-radius: 14px; background: var(--cc-sunken); white-space: pre-wrap; word-break: break-word; }
.cc-mine .cc-bubble { background: var(--cc-accent); color: var(--cc-on-accent); }
.cc-failed .cc-bubble { background: var(--cc-bad-soft); color: var(--cc-bad); }
.cc-msg-meta { font-size: 11px; color: var(--cc-muted); margin: 2px 6px 0; }
.cc-typing { min-height: 18px; font-size: 12px; color: var(--cc-muted); padding: 0 16px; }
.cc-compose { display: flex; gap: 8px; padding: 10px 16px 14px; border-top: 1px solid var(--cc-border); }
.cc-empty { margin: auto; text-align: center; max-width: 420px; padding: 32px; display: flex; flex-direction: column; gap: 8px; }
.cc-empty-title { font-weight: 600; font-size: 16px; }
@media (max-width: 820px) {
  .cc-root { grid-template-columns: 1fr; height: auto; }
  .cc-list { max-height: 240px; }
  .cc-main { min-height: 70vh; }
  /* No conversation open: the hint, not a screen-high empty box under the list. */
  .cc-main.cc-main-empty { min-height: 0; }
}
`;
