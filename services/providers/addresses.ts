/**
 * Which IP addresses an outgoing fetch may reach.
 *
 * Server-side request forgery turns our server into the attacker's proxy: a
 * URL like `http://169.254.169.254/` (cloud metadata), `http://127.0.0.1:8000/`
 * (our own admin routes) or `http://10.0.0.5/` (the private network) must not
 * be fetched just because a client named it. Checking the host name is not
 * enough, since any public name can resolve to a private address; so the
 * resolved addresses are checked too.
 *
 * @module
 */

/**
 * Returns whether `address` (IPv4 or IPv6, as text) is publicly routable:
 * not loopback, private, link-local, carrier-grade NAT, multicast, reserved
 * or unspecified. IPv4-mapped IPv6 addresses are judged as the IPv4 inside.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isPublicAddress } from "./addresses.ts";
 * assert.equal(isPublicAddress("93.184.216.34"), true);
 * assert.equal(isPublicAddress("169.254.169.254"), false);
 * assert.equal(isPublicAddress("::ffff:127.0.0.1"), false);
 * ```
 */
export function isPublicAddress(address: string): boolean {
  const v4 = parseIpv4(address);
  if (v4 !== undefined) return isPublicIpv4(v4);
  const v6 = parseIpv6(address);
  return v6 !== undefined && isPublicIpv6(v6);
}

function isPublicIpv4([a, b]: number[]): boolean {
  if (a === 0 || a === 10 || a === 127) return false; // "this network", private, loopback
  if (a === 100 && b >= 64 && b <= 127) return false; // carrier-grade NAT
  if (a === 169 && b === 254) return false; // link-local, cloud metadata
  if (a === 172 && b >= 16 && b <= 31) return false; // private
  if (a === 192 && b === 168) return false; // private
  if (a === 192 && b === 0) return false; // IETF protocol assignments, TEST-NET-1
  if (a === 198 && (b === 18 || b === 19)) return false; // benchmarking
  return a < 224; // multicast (224/4) and reserved (240/4), broadcast
}

function isPublicIpv6(words: number[]): boolean {
  if (words.every((word) => word === 0)) return false; // ::
  if (words.slice(0, 7).every((word) => word === 0) && words[7] === 1) return false; // ::1
  if (words.slice(0, 5).every((word) => word === 0) && words[5] === 0xffff) {
    return isPublicIpv4([words[6] >> 8, words[6] & 0xff, words[7] >> 8, words[7] & 0xff]);
  }
  const first = words[0];
  if ((first & 0xfe00) === 0xfc00) return false; // unique local fc00::/7
  if ((first & 0xffc0) === 0xfe80) return false; // link-local fe80::/10
  if ((first & 0xff00) === 0xff00) return false; // multicast
  if (first === 0x64 && words[1] === 0xff9b) return false; // NAT64 can reach private IPv4
  if (first === 0x2001 && words[1] === 0x0db8) return false; // documentation
  return true;
}

function parseIpv4(text: string): number[] | undefined {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (match === null) return undefined;
  const parts = match.slice(1).map(Number);
  return parts.every((part) => part <= 255) ? parts : undefined;
}

function parseIpv6(text: string): number[] | undefined {
  let address = text.replace(/^\[|\]$/g, "").replace(/%.*$/, "");
  // An embedded dotted IPv4 tail (::ffff:1.2.3.4) becomes two hex words.
  const tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(address);
  if (tail !== null) {
    const v4 = parseIpv4(tail[1]);
    if (v4 === undefined) return undefined;
    address = address.slice(0, tail.index) +
      `${((v4[0] << 8) | v4[1]).toString(16)}:${((v4[2] << 8) | v4[3]).toString(16)}`;
  }
  const halves = address.split("::");
  if (halves.length > 2) return undefined;
  const head = halves[0] === "" ? [] : halves[0].split(":");
  const rest = halves.length === 2 && halves[1] !== "" ? halves[1].split(":") : [];
  const missing = 8 - head.length - rest.length;
  if ((halves.length === 1 && missing !== 0) || missing < 0) return undefined;
  const words = [...head, ...Array(halves.length === 2 ? missing : 0).fill("0"), ...rest];
  if (words.length !== 8 || !words.every((word) => /^[0-9a-f]{1,4}$/i.test(word))) return undefined;
  return words.map((word) => parseInt(word, 16));
}
