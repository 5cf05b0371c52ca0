export { DkimSigner } from './signer.ts';
export type { DkimSignerOptions } from './signer.ts';
export { decodeKey, dkimSignatureHeader, signMessage, publicKeyRecord, DkimError } from './core.ts';
export type { DkimKey, DecodedKey, SignOptions } from './core.ts';
