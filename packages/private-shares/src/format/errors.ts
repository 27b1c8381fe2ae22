// Errors a caller can act on: 'not-for-you' means "ask the sharer", 'tampered' means "this copy was
// changed after it was sealed", the format codes mean "not something this version can read".

export type PrivateShareErrorCode = 'not-for-you' | 'tampered' | 'bad-format' | 'unsupported-version';

export class PrivateShareError extends Error {
  readonly code: PrivateShareErrorCode;
  constructor(code: PrivateShareErrorCode, message: string) {
    super(message);
    this.name = 'PrivateShareError';
    this.code = code;
  }
}

export const notForYou = (message = 'this share is encrypted for other people: no key this node holds opens it') =>
  new PrivateShareError('not-for-you', message);
export const tampered = (message: string) => new PrivateShareError('tampered', message);
export const badFormat = (message: string) => new PrivateShareError('bad-format', `malformed private share: ${message}`);
