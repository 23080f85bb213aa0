/** DI tokens of the gateway: every injected dependency is named by one of these. */
export const GATEWAY_OPTIONS = Symbol('GATEWAY_OPTIONS');
export const AUTHENTICATOR = Symbol('AUTHENTICATOR');
export const TEAMS_SERVICE = Symbol('TEAMS_SERVICE');
export const SESSIONS_SERVICE = Symbol('SESSIONS_SERVICE');
export const METRICS_REGISTRY = Symbol('METRICS_REGISTRY');
export const READINESS_CHECKS = Symbol('READINESS_CHECKS');
/** An AbortController aborted when the application shuts down: live streams end with it. */
export const SHUTDOWN = Symbol('SHUTDOWN');
export const WEBHOOKS_SERVICE = Symbol('WEBHOOKS_SERVICE');
