export * from './model.js';
export * from './time.js';
export * from './ids.js';
export * from './any-value.js';
export * from './protobuf-codec.js';
export * from './json-codec.js';
export * from './clone.js';
export * from './json-buffer-encoder.js';
