import {
  Inject,
  Module,
  type BeforeApplicationShutdown,
  type DynamicModule,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import type { Orchestrator } from './runtime/orchestrator.ts';
import { ORCHESTRATOR } from './orchestrator.tokens.ts';

/** Starts the replica when the application boots and stops it (gracefully) when it shuts down. */
class OrchestratorLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown {
  constructor(@Inject(ORCHESTRATOR) private readonly orchestrator: Orchestrator) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.orchestrator.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.orchestrator.stop();
  }
}

/**
 * The orchestrator as a Nest module over a composed runtime (`createOrchestrator`): the
 * distributed `main.ts` and the embedded standalone app both register it with their own ports.
 */
@Module({})
export class OrchestratorModule {
  static register(orchestrator: Orchestrator): DynamicModule {
    return {
      module: OrchestratorModule,
      providers: [{ provide: ORCHESTRATOR, useValue: orchestrator }, OrchestratorLifecycle],
      exports: [ORCHESTRATOR],
    };
  }
}
