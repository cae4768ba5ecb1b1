/**
 * Ed25519 keys, detached signatures over exact bytes, and trust sets. The one home of signing:
 * packs (`src/pack/`) and repository metadata (`src/repo/`) both sign and verify through here.
 */
export {
  generateKeyPair,
  type KeyPair,
  keyIdOf,
  loadPrivateKey,
  loadPublicKey,
  type PrivateKey,
  type PublicKey,
  publicKeyFromBase64,
  writeKeyPair,
} from './keys.ts';
export {
  type Signature,
  SignatureEnvelope,
  signBytes,
  type Verdict,
  verifyBytes,
  verifyEnvelope,
} from './sign.ts';
export { loadTrust, TrustFile, type TrustSet, trustOf } from './trust.ts';
