import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Inject,
  Param,
  Post,
  Put,
  Query,
  Res,
} from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import type { Principal } from '../auth/api-key.ts';
import { Authenticated, CallerPrincipal } from '../auth/api-key.guard.ts';
import { WEBHOOKS_SERVICE } from '../gateway.tokens.ts';
import { parseInput } from '../http/validation.ts';
import {
  deliveriesQuerySchema,
  deliveryPathSchema,
  putWebhookBodySchema,
  webhookPathSchema,
  type DeliveryList,
  type PutWebhookResponse,
  type WebhookView,
} from './webhooks.schemas.ts';
import type { WebhooksService } from './webhooks.service.ts';

/** Thin: parse, call the service (tenant-scoped), answer. */
@Controller('v1/webhooks')
export class WebhooksHttpController {
  constructor(@Inject(WEBHOOKS_SERVICE) private readonly webhooks: WebhooksService) {}

  @Put(':webhookId')
  @Authenticated('webhooks:write')
  async put(
    @CallerPrincipal() principal: Principal,
    @Param() params: unknown,
    @Body() body: unknown,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<PutWebhookResponse> {
    const { webhookId } = parseInput(webhookPathSchema, params, 'path');
    const input = parseInput(putWebhookBodySchema, body, 'body');
    const { created, view } = await this.webhooks.put(principal, webhookId, input);
    void reply.status(created ? 201 : 200);
    return view;
  }

  @Get()
  @Authenticated('webhooks:read')
  async list(@CallerPrincipal() principal: Principal): Promise<{ items: readonly WebhookView[] }> {
    return { items: await this.webhooks.list(principal) };
  }

  @Get(':webhookId')
  @Authenticated('webhooks:read')
  async get(@CallerPrincipal() principal: Principal, @Param() params: unknown): Promise<WebhookView> {
    return this.webhooks.get(principal, parseInput(webhookPathSchema, params, 'path').webhookId);
  }

  @Delete(':webhookId')
  @HttpCode(204)
  @Authenticated('webhooks:write')
  async remove(@CallerPrincipal() principal: Principal, @Param() params: unknown): Promise<void> {
    await this.webhooks.remove(principal, parseInput(webhookPathSchema, params, 'path').webhookId);
  }

  @Post(':webhookId/rotate-secret')
  @HttpCode(200)
  @Authenticated('webhooks:write')
  async rotate(
    @CallerPrincipal() principal: Principal,
    @Param() params: unknown,
  ): Promise<{ webhookId: string; secret: string }> {
    const { webhookId } = parseInput(webhookPathSchema, params, 'path');
    return { webhookId, secret: await this.webhooks.rotateSecret(principal, webhookId) };
  }

  @Get(':webhookId/deliveries')
  @Authenticated('webhooks:read')
  async deliveries(
    @CallerPrincipal() principal: Principal,
    @Param() params: unknown,
    @Query() query: unknown,
  ): Promise<DeliveryList> {
    const { webhookId } = parseInput(webhookPathSchema, params, 'path');
    return this.webhooks.deliveries(principal, webhookId, parseInput(deliveriesQuerySchema, query, 'query'));
  }

  @Post(':webhookId/deliveries/:deliveryId/redeliver')
  @HttpCode(202)
  @Authenticated('webhooks:write')
  async redeliver(
    @CallerPrincipal() principal: Principal,
    @Param() params: unknown,
  ): Promise<{ deliveryId: string }> {
    const { webhookId, deliveryId } = parseInput(deliveryPathSchema, params, 'path');
    await this.webhooks.redeliver(principal, webhookId, deliveryId);
    return { deliveryId };
  }
}
