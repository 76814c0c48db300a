// Public surface of the OCI client.
export * from './errors';
export * from './reference';
export * from './client';
export * from './manifest';
export * from './blob';
export * from './copy';
export * from './digest';
export * from './mediatypes';
export type { Credential, CredentialSource } from './auth';
export type { RegistryLimits } from './limits';
