// @cascade/content/node: content ids of files on disk.
export * from './src/node/file-cid.ts';
