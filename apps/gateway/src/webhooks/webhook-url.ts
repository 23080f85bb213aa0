import { isIP } from 'node:net';
import { isNonPublicAddress } from '@agentledger/agents';

/**
 * Why a tenant's endpoint URL is refused at registration, or undefined when it may be stored:
 * http(s) only, no credentials, and — unless the operator allows private addresses — no literal
 * private, loopback, link-local or reserved address and no `localhost`. Host names are checked
 * again where it counts, at delivery: the transport resolves them, refuses any private answer and
 * connects to the address it checked (the rules of `http_request`), and never follows a redirect.
 */
export const urlProblem = (value: string, allowPrivateAddresses: boolean): string | undefined => {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'must be an absolute URL';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'must be an http or https URL';
  if (url.username !== '' || url.password !== '') return 'must not carry credentials';
  if (allowPrivateAddresses) return undefined;
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const literal = isIP(host) !== 0;
  if ((literal && isNonPublicAddress(host)) || host === 'localhost' || host.endsWith('.localhost'))
    return 'must not name a private, loopback, link-local or reserved address';
  return undefined;
};
