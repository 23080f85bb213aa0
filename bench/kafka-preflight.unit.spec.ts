import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { accepts, requireKafka } from './kafka-preflight.ts';

const listening = async (): Promise<{ server: Server; address: string }> => {
  const server = createServer((socket) => socket.end());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { server, address: `127.0.0.1:${port}` };
};

describe('Kafka preflight of the benchmarks', () => {
  const servers: Server[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
  });

  it('tells a listening address from a closed port and from an address without a port', async () => {
    const { server, address } = await listening();
    servers.push(server);
    expect(await accepts(address)).toBe(true);
    const closed = await listening();
    await new Promise((resolve) => closed.server.close(resolve));
    expect(await accepts(closed.address)).toBe(false);
    expect(await accepts('localhost')).toBe(false);
  });

  it('passes when one broker answers and otherwise names the brokers and the fix', async () => {
    const { server, address } = await listening();
    servers.push(server);
    const closed = await listening();
    await new Promise((resolve) => closed.server.close(resolve));
    await expect(requireKafka([closed.address, address], 'scenario b')).resolves.toBeUndefined();
    await expect(requireKafka([closed.address], 'scenario b')).rejects.toThrow(
      `scenario b needs a Kafka broker and none answers at ${closed.address}: start one with \`bash scripts/infra.sh up\``,
    );
  });
});
