export * from './assessment';
export * from './decide';
export * from './rubric';
export * from './ruleScoring';
export * from './answers';
export * from './questionDefinition';
export * from './essayScoring';
export * from './recommendations';
