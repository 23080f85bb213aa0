import { BlockList, isIP } from 'node:net';

const V4_BLOCKED: readonly (readonly [string, number])[] = [
  ['0.0.0.0', 8], // "this" network, incl. 0.0.0.0
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local, incl. the cloud metadata address 169.254.169.254
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, incl. 255.255.255.255
];

const V6_BLOCKED: readonly (readonly [string, number])[] = [
  ['::', 96], // unspecified, loopback ::1 and IPv4-compatible addresses
  ['64:ff9b::', 96], // NAT64: reaches IPv4 hosts through a translator
  ['100::', 64], // discard
  ['2001:db8::', 32], // documentation
  ['fc00::', 7], // unique local, incl. fd00::/8 (and fd00:ec2::254, a metadata address)
  ['fe80::', 10], // link-local
  ['fec0::', 10], // site-local (deprecated)
  ['ff00::', 8], // multicast
];

const blocked = (): BlockList => {
  const list = new BlockList();
  for (const [network, prefix] of V4_BLOCKED) list.addSubnet(network, prefix, 'ipv4');
  for (const [network, prefix] of V6_BLOCKED) list.addSubnet(network, prefix, 'ipv6');
  return list;
};

/** `::ffff:a.b.c.d` and `::ffff:xxxx:yyyy` name an IPv4 host: they are judged as that host. */
const unmapped = (address: string): string => {
  const lower = address.toLowerCase();
  const dotted = /^(?:0{0,4}:){0,5}:?ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (dotted) return dotted[1]!;
  const hex = /^(?:0{0,4}:){0,5}:?ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(lower);
  if (!hex) return address;
  const high = Number.parseInt(hex[1]!, 16);
  const low = Number.parseInt(hex[2]!, 16);
  return [high >> 8, high & 255, low >> 8, low & 255].join('.');
};

/**
 * True for addresses a tool must not reach unless the operator allows it: private, loopback,
 * link-local (cloud metadata), unique-local, multicast and reserved ranges, IPv4 and IPv6, with
 * IPv4-mapped IPv6 judged as its IPv4 address. Anything that is not an IP address is refused too.
 */
export const isNonPublicAddress = (address: string): boolean => {
  const plain = unmapped(address.replace(/^\[|\]$/g, '').replace(/%.*$/, ''));
  const family = isIP(plain);
  if (family === 0) return true;
  return blocked().check(plain, family === 4 ? 'ipv4' : 'ipv6');
};
