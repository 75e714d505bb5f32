export * from './api';
export * from './frames';
export * from './codec';
export * from './encode';
export * from './close-codes';
export * from './wire-errors';
export * from './limits';
