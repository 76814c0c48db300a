// The embedded environment for the demo, tests and local runs: a Temporal dev server and docker-registry processes
// on loopback (supervised so none outlives promoflow), sample images to push, and the real cosign when built.
export * from './environment';
export * from './sample-images';
export * from './cosign';
export { startRegistry, type LocalRegistry } from './registry';
export { startDevTemporal, type DevTemporal } from './temporal';
export { toolsBin } from './tools';
