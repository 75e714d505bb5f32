export * from './frames';
export * from './codec';
export * from './close-codes';
