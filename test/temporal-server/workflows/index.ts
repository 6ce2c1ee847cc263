export * from './activities';
export * from './children';
export * from './lifecycle';
export * from './messaging';
export * from './bench';
export * from './persistence';
