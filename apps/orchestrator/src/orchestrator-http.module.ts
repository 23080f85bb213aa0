import { Controller, Get, Header, HttpException, Inject, Module, type DynamicModule } from '@nestjs/common';
import type { Registry } from 'prom-client';
import { METRICS_REGISTRY, READINESS } from './orchestrator.tokens.ts';
import type { ReadinessCheck } from './runtime/orchestrator-runtime.ts';

export type { ReadinessCheck };

@Controller()
class OrchestratorHealthController {
  constructor(
    @Inject(READINESS) private readonly checks: readonly ReadinessCheck[],
    @Inject(METRICS_REGISTRY) private readonly registry: Registry,
  ) {}

  /** Liveness never depends on work, the store or the bus: only that the process answers. */
  @Get('health/live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('health/ready')
  async ready(): Promise<{ status: 'ready'; checks: Record<string, boolean> }> {
    const results: Record<string, boolean> = {};
    for (const { name, check } of this.checks) {
      results[name] = await Promise.resolve()
        .then(check)
        .catch(() => false);
    }
    if (Object.values(results).some((ok) => !ok))
      throw new HttpException({ status: 'not_ready', checks: results }, 503);
    return { status: 'ready', checks: results };
  }

  @Get('metrics')
  @Header('content-type', 'text/plain; version=0.0.4')
  metrics(): Promise<string> {
    return this.registry.metrics();
  }
}

/** `/health/live`, `/health/ready` and `/metrics` of an orchestrator process (no auth). */
@Module({})
export class OrchestratorHttpModule {
  static register(registry: Registry, checks: readonly ReadinessCheck[]): DynamicModule {
    return {
      module: OrchestratorHttpModule,
      controllers: [OrchestratorHealthController],
      providers: [
        { provide: METRICS_REGISTRY, useValue: registry },
        { provide: READINESS, useValue: checks },
      ],
    };
  }
}
