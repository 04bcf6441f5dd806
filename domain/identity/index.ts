export * from './user';
export * from './decide';
