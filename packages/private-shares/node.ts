// @cascade/private-shares/node: what only Node can do (files on disk).
export { sealFiles, type SealedFiles } from './src/node/seal-files.ts';
