export * from './role';
export * from './question';
export * from './credential';
export * from './knowledgeDocument';
export * from './decide';
