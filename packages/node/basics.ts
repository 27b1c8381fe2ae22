// What a door needs before it knows it needs a node: the domain errors, the settings' names and the
// ICE server parser, without the node itself. `cascade help` and a usage error load only this: the
// package's root (the engine, the state DB, the queue and listing) costs seconds of start-up per process.
export { NodeError, InvalidInput, errorMessage, type NodeErrorKind } from '@cascade/node-state/errors';
export { SETTINGS_KEYS } from './src/model/settings.ts';
export { parseIceServerUrl, type IceServer } from './src/model/ice-servers.ts';
export { isPostgresUrl, redactUrl } from '@cascade/node-state/store';
