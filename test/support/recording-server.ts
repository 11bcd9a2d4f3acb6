/** Moved to the test kit; re-exported here for the process-level tests that import it from support/. */
export * from '../kit/recording-server.js';
