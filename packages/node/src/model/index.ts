// The node model's public surface (see model.ts).
export { NodeModel, loadModelState, type AddInput, type AddPlan, type ModelState } from './model.ts';
export { SETTINGS_KEYS, defaultSettings, effectiveRateLimits, publicAnnounceUrls, type Settings, type SettingsKey, type AltSpeedSchedule } from './settings.ts';
export { UnknownCategory, type Category } from './categories.ts';
export { PATCH_KEYS, parseTorrentPatch, type TorrentPatch } from './torrent-options.ts';
