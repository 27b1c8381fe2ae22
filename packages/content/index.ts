// @cascade/content: content ids (CIDv1 raw over sha2-256) of shared files. Platform-free.
export * from './src/cid.ts';
