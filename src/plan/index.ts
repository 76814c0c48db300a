// Planning (pure): spec + inventory → classified edges per phase, the desired state per destination, drift
// between what registries hold and what manifests declare, and their text/Markdown renderings.
export * from './plan';
export * from './inventory';
export * from './desired';
export * from './drift';
export * from './render';
export * from './drift-render';
export * from './kpromo-parity';
export * from './markdown';
