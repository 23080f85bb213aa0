/** A tenant's registered endpoint. `secret` is `whsec_<base64>`; it never leaves the gateway's store except once, to the tenant. */
export type WebhookEndpoint = Readonly<{
  tenantId: string;
  endpointId: string;
  url: string;
  eventTypes: readonly string[];
  statuses: readonly string[];
  /** The event types that trigger a delivery: `eventTypes` plus those the `statuses` stand for. */
  matchTypes: readonly string[];
  secret: string;
  createdAt: Date;
  updatedAt: Date;
}>;

export type DeliveryStatus = 'pending' | 'delivered' | 'dead';

/** One event to send to one endpoint. `payload` is the exact body that is signed and sent. */
export type WebhookDelivery = Readonly<{
  deliveryId: string;
  tenantId: string;
  endpointId: string;
  streamId: string;
  globalPosition: number;
  eventType: string;
  payload: string;
  status: DeliveryStatus;
  attempts: number;
  nextAttemptAt: Date;
  retryUntil: Date;
  lastStatus: number | undefined;
  lastError: string | undefined;
  createdAt: Date;
  deliveredAt: Date | undefined;
}>;

/** A delivery claimed for one attempt, with where and how to send it. */
export type ClaimedDelivery = WebhookDelivery & Readonly<{ url: string; secret: string }>;

export type NewDelivery = Pick<
  WebhookDelivery,
  'deliveryId' | 'tenantId' | 'endpointId' | 'streamId' | 'globalPosition' | 'eventType' | 'payload'
> &
  Readonly<{ now: Date; retryUntil: Date }>;

export type AttemptOutcome =
  | Readonly<{ kind: 'delivered'; status: number; at: Date }>
  | Readonly<{ kind: 'failed'; status?: number; error: string; at: Date; nextAttemptAt: Date }>
  | Readonly<{ kind: 'dead'; status?: number; error: string; at: Date }>;

export type BacklogRow = Readonly<{ tenantId: string; endpointId: string; pending: number; dead: number }>;

/**
 * The webhooks' storage. Every call that a tenant's request reaches takes the tenant id and
 * filters by it; the deliverer's calls (`claimDue`, `recordAttempt`, `backlog`) span tenants.
 */
export type WebhookStore = Readonly<{
  /** Creates or updates; on update the stored secret is kept (`secret` is used only on create). */
  putEndpoint: (
    endpoint: WebhookEndpoint,
  ) => Promise<Readonly<{ endpoint: WebhookEndpoint; created: boolean }>>;
  getEndpoint: (tenantId: string, endpointId: string) => Promise<WebhookEndpoint | undefined>;
  listEndpoints: (tenantId: string) => Promise<readonly WebhookEndpoint[]>;
  /** Removes the endpoint and its undelivered deliveries; false when there was none. */
  deleteEndpoint: (tenantId: string, endpointId: string) => Promise<boolean>;
  rotateSecret: (tenantId: string, endpointId: string, secret: string, now: Date) => Promise<boolean>;
  /**
   * Every endpoint of these tenants, by tenant and endpoint id: the fan-out asks once per page of
   * events and picks per event (`endpointsFor`).
   */
  endpointsOfTenants: (tenantIds: readonly string[]) => Promise<readonly WebhookEndpoint[]>;
  /** Stores each delivery once (a delivery id already stored is left as it is). */
  addDeliveries: (deliveries: readonly NewDelivery[]) => Promise<void>;
  /**
   * Claims up to `limit` due deliveries for `leaseMs`: only the oldest undelivered one per
   * (endpoint, session), so each endpoint receives a session's events in order, and none another
   * deliverer holds. Counts the attempt.
   */
  claimDue: (now: Date, limit: number, leaseMs: number) => Promise<readonly ClaimedDelivery[]>;
  /**
   * Records the outcome of the claim that counted attempt `attempts`; ignored when the delivery was
   * claimed again since (its lease ran out), so a late answer never overwrites a newer attempt.
   */
  recordAttempt: (
    claim: Pick<WebhookDelivery, 'deliveryId' | 'attempts'>,
    outcome: AttemptOutcome,
  ) => Promise<void>;
  listDeliveries: (
    tenantId: string,
    endpointId: string,
    options: Readonly<{ status?: DeliveryStatus; limit: number; afterPosition?: number }>,
  ) => Promise<readonly WebhookDelivery[]>;
  /** Puts a dead delivery back in line (same id); false when the tenant has no such dead delivery. */
  redeliver: (
    tenantId: string,
    endpointId: string,
    deliveryId: string,
    now: Date,
    retryUntil: Date,
  ) => Promise<boolean>;
  backlog: () => Promise<readonly BacklogRow[]>;
}>;
