import {
  Inject,
  Module,
  type BeforeApplicationShutdown,
  type DynamicModule,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { ORCHESTRATOR } from './orchestrator.tokens.ts';

/** What the module starts and stops: an `OrchestratorRuntime` (or a bare `Orchestrator` in tests). */
type Startable = Readonly<{ start: () => Promise<void>; stop: () => Promise<void> }>;

/** Starts the replica when the application boots and stops it (gracefully) when it shuts down. */
class OrchestratorLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown {
  constructor(@Inject(ORCHESTRATOR) private readonly orchestrator: Startable) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.orchestrator.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.orchestrator.stop();
  }
}

/**
 * The orchestrator as a Nest module over a composed runtime (`createOrchestratorRuntime`): the
 * distributed `main.ts` and the embedded standalone app both register it with their own ports.
 */
@Module({})
export class OrchestratorModule {
  static register(orchestrator: Startable): DynamicModule {
    return {
      module: OrchestratorModule,
      providers: [{ provide: ORCHESTRATOR, useValue: orchestrator }, OrchestratorLifecycle],
      exports: [ORCHESTRATOR],
    };
  }
}
