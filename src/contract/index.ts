// The Temporal contract: everything that crosses the boundary between client, worker, workflows and activities
// (run and activity inputs/results, endpoint references, failure names, the task queue, search attributes).
// Pure: imported by workflow code, so nothing here performs I/O.
export * from './runs';
export * from './reconcile';
export * from './activities';
export * from './failures';
export * from './task-queue';
export * from './search-attributes';
export * from './control';
export * from './sharded-run';
export * from './bundle';
export * from './reconcile-run';
