export * from './user';
export * from './decide';
export * from './webhookSubscription';
export * from './decideWebhookSubscription';
export * from './identityDecider';
