/** The recommendations ranking engine: profile → ranking → rationale (pure, no I/O). */
export * from './skills';
export * from './profile';
export * from './rank';
export * from './rationale';
export { cosineOf, centredCosine } from './vectors';
