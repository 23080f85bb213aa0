import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { Server, ServerCredentials } from '@grpc/grpc-js';
import type { Registry } from 'prom-client';
import type { Authenticator } from '../auth/authenticator.ts';
import {
  AUTHENTICATOR,
  GATEWAY_OPTIONS,
  METRICS_REGISTRY,
  SESSIONS_SERVICE,
  SHUTDOWN,
  TEAMS_SERVICE,
  WEBHOOKS_SERVICE,
} from '../gateway.tokens.ts';
import type { SessionUseCases } from '@agentledger/sessions';
import type { TeamsService } from '../teams/teams.service.ts';
import { measureGrpc } from './grpc-metrics.ts';
import { loadAgentLedgerServices } from './proto.ts';
import { sessionAdminGrpcHandlers } from './session-admin.grpc.ts';
import { sessionsGrpcHandlers } from './sessions.grpc.ts';
import { teamsGrpcHandlers } from './teams.grpc.ts';
import { webhooksGrpcHandlers } from './webhooks.grpc.ts';
import type { WebhooksService } from '../webhooks/webhooks.service.ts';

export type GrpcOptions = Readonly<{ host: string; port: number; maxMessageBytes: number }>;

/**
 * The gRPC server in the gateway process (plain @grpc/grpc-js): the `Sessions`, `Teams` and (when
 * configured) `Webhooks` services of libs/proto over the same application services as REST. Binds
 * when the application starts (if `grpc` options are given); on shutdown live streams end and the
 * server stops.
 */
@Injectable()
export class GrpcGateway implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('Gateway');
  private server: Server | undefined;
  private boundPort: number | undefined;

  constructor(
    @Inject(GATEWAY_OPTIONS) private readonly options: Readonly<{ grpc?: GrpcOptions }>,
    @Inject(AUTHENTICATOR) private readonly authenticator: Authenticator,
    @Inject(TEAMS_SERVICE) private readonly teams: TeamsService,
    @Inject(SESSIONS_SERVICE) private readonly sessions: SessionUseCases,
    @Inject(SHUTDOWN) private readonly shutdown: AbortController,
    @Inject(WEBHOOKS_SERVICE) private readonly webhooks: WebhooksService | null,
    @Inject(METRICS_REGISTRY) private readonly registry: Registry,
  ) {}

  /** The bound port (useful with port 0); undefined when gRPC is off. */
  port(): number | undefined {
    return this.boundPort;
  }

  async onApplicationBootstrap(): Promise<void> {
    const grpc = this.options.grpc;
    if (grpc === undefined) return;
    const services = await loadAgentLedgerServices();
    const server = new Server({
      'grpc.max_receive_message_length': grpc.maxMessageBytes,
      'grpc.max_send_message_length': 16 * 1024 * 1024,
    });
    server.addService(
      services.sessions,
      measureGrpc(
        'agentledger.v1.Sessions',
        {
          ...sessionsGrpcHandlers(this.authenticator, this.sessions),
          ...sessionAdminGrpcHandlers(this.authenticator, this.sessions),
        },
        this.registry,
      ),
    );
    server.addService(
      services.teams,
      measureGrpc('agentledger.v1.Teams', teamsGrpcHandlers(this.authenticator, this.teams), this.registry),
    );
    if (this.webhooks !== null)
      server.addService(
        services.webhooks,
        measureGrpc(
          'agentledger.v1.Webhooks',
          webhooksGrpcHandlers(this.authenticator, this.webhooks),
          this.registry,
        ),
      );
    this.boundPort = await new Promise<number>((resolve, reject) =>
      server.bindAsync(`${grpc.host}:${grpc.port}`, ServerCredentials.createInsecure(), (error, port) =>
        error === null ? resolve(port) : reject(error),
      ),
    );
    this.server = server;
    this.logger.log(`gRPC listening on ${grpc.host}:${this.boundPort}`);
  }

  async onModuleDestroy(): Promise<void> {
    this.shutdown.abort();
    const server = this.server;
    if (server === undefined) return;
    this.server = undefined;
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => {
        server.forceShutdown();
        resolve();
      }, 5_000);
      server.tryShutdown(() => {
        clearTimeout(force);
        resolve();
      });
    });
  }
}
