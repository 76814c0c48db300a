// Public surface of src/signing for activities and the CLI. Nothing here touches Temporal or the network except
// through functions passed in (ArtifactReader, sigstore-js clients given URLs by the caller).
export type { Signer, SigningAlgorithm } from './signer';
export { generateKeyPair, loadOrCreateKeyPair, loadPrivateKey, loadPrivateKeyFile, loadPublicKey, writeKeyPair, LocalKeySigner, KeyDecryptionError, KeyFormatError, publicKeyFingerprint } from './keys';
export { simpleSigningPayload, parseSimpleSigningPayload, COSIGN_SIGNATURE_TYPE } from './simple-signing';
export { pae, signEnvelope, serializeEnvelope, parseEnvelope, INTOTO_PAYLOAD_TYPE } from './dsse';
export { statement, subjectForDigest, serializeStatement, parseStatement, INTOTO_STATEMENT_V1 } from './intoto';
export { promotionProvenance, promotionProvenanceStatement, SLSA_PROVENANCE_V1, PROMOTION_BUILD_TYPE, BUILDER_ID_BASE, type PromotionProvenanceInput, type ProvenanceV1, type RolloutRecord, type RolloutPhase } from './slsa-provenance';
export { promotionVsa, promotionVsaStatement, policyDescriptor, SLSA_VSA_V1, VERIFIER_ID, PROMOTION_POLICY_URI, type VsaV1, type VerificationInputs, type SourcePolicy, type SigningPolicy } from './vsa';
export {
  buildCosignImage,
  mergeCosignImage,
  parseImageManifest,
  signatureLayer,
  attestationLayer,
  type Artifact,
  type TaggedArtifact,
  type Blob,
  type BuiltManifest,
  type MergeResult,
} from './artifacts';
export { bundleReferrer, signStatementBundle, serializeBundle, parseBundle, toSigstoreSigner, verifyBundleWithKey, cosignSignStatement, describeIdentity, BUNDLE_V03, COSIGN_SIGN_PREDICATE, type IdentityPolicy } from './bundle';
export { signImage, signDigest, attestationStatements, type SignImageInput, type SignImageOutput, type SignedDigest, type ProvenanceInputs } from './sign-image';
export { verifyImageSignatures, verifyImageAttestations, verifyImageBundles, requireSignedImage, verifySignatureLayer, verifyAttestationEnvelope, SignatureVerificationError, type ArtifactReader, type ImageVerdict, type Verdict } from './verify';
export { readCosignImage, planMirrorPush, signingNeeds, type SigningNeeds } from './replicate';
export { signStatementKeyless, signImageKeyless, keylessMaterial, requireSigstoreURL, trustMaterialFromTrustedRoot, verifyKeylessBundle, type KeylessOptions } from './keyless';
export type { ArtifactStore } from './store';
export { KeyRing, KeyReferenceError, type ReferenceReader } from './key-ring';
export { TufTrustRoot, trustRootConfigFromEnv, trustMaterialFromText, TrustRootConfigError, TrustRootUnavailableError, PUBLIC_GOOD_TUF_MIRROR, TRUST_ROOT_ENV, type TrustRootConfig, type TrustRootSource } from './trust-root';
export { signWithKey, signKeyless, attestationPredicates, replicateSignatures, readCosignImages, imagesReader, replicateImages, ReadBackError, type CosignImages, verifyWithKey, verifyKeyless, verifyKeylessAt, keylessStatementsAt, repairFromPeers, SignatureMissingError, type NamedStore, type RepairOutcome, type SignCounts, type KeySigning, type KeylessSigning, type KeylessVerification, type ReplicateOptions, type SignatureExpectation } from './promotion';
export { checkPromotion, isRegistryFault, type PromotionPolicy, type PromotionReport, type CheckResult, type TrustedSigner } from './check-promotion';
