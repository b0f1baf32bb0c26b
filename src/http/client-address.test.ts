import { describe, expect, it } from 'vitest';
import { TrustedProxies } from './client-address.ts';

const proxies = new TrustedProxies(['10.0.0.0/8', '192.0.2.7', 'fd00::/8']);

describe('the client address behind trusted proxies', () => {
  it('is the peer when the peer is not trusted, whatever X-Forwarded-For says', () => {
    expect(proxies.clientAddress('203.0.113.9', '198.51.100.1')).toBe('203.0.113.9');
    expect(proxies.clientAddress('203.0.113.9', '')).toBe('203.0.113.9');
  });

  it('is the right-most entry that is not a trusted proxy; what the client wrote to its left is ignored', () => {
    // The client sent "1.1.1.1" itself; its real address was appended by the first proxy.
    expect(proxies.clientAddress('10.1.2.3', '1.1.1.1, 198.51.100.4')).toBe('198.51.100.4');
    // Two proxies: the inner one (10.9.9.9) is trusted, so the walk goes on past it.
    expect(proxies.clientAddress('10.1.2.3', '1.1.1.1, 198.51.100.4, 10.9.9.9')).toBe('198.51.100.4');
    expect(proxies.clientAddress('192.0.2.7', '198.51.100.4')).toBe('198.51.100.4');
  });

  it('reads every X-Forwarded-For line joined, ports and brackets, and IPv6', () => {
    expect(proxies.clientAddress('10.1.2.3', '1.1.1.1,198.51.100.4:5555')).toBe('198.51.100.4');
    expect(proxies.clientAddress('fd12::1', '[2001:db8::5]:443')).toBe('2001:db8::5');
    expect(proxies.clientAddress('fd12::1', '2001:db8::5')).toBe('2001:db8::5');
    expect(proxies.clientAddress('10.1.2.3', '::ffff:198.51.100.4')).toBe('::ffff:198.51.100.4');
  });

  it('takes IPv4 peers as a dual-stack listener reports them (IPv4-mapped IPv6)', () => {
    expect(proxies.clientAddress('0000:0000:0000:0000:0000:ffff:0a01:0203', '198.51.100.4')).toBe('198.51.100.4');
    expect(proxies.clientAddress('0000:0000:0000:0000:0000:ffff:cb00:7109', '198.51.100.4')).toBe('0000:0000:0000:0000:0000:ffff:cb00:7109');
  });

  it('stops at an entry that is not an address, at the last hop that was', () => {
    expect(proxies.clientAddress('10.1.2.3', '198.51.100.4, unknown')).toBe('10.1.2.3');
    expect(proxies.clientAddress('10.1.2.3', 'garbage, 10.9.9.9')).toBe('10.9.9.9');
    // Every hop trusted: the left-most is as far as anyone can tell.
    expect(proxies.clientAddress('10.1.2.3', '10.4.4.4, 10.9.9.9')).toBe('10.4.4.4');
  });

  it('names what it cannot read as an address or a subnet', () => {
    expect(TrustedProxies.problemWith('10.0.0.0/8')).toBeUndefined();
    expect(TrustedProxies.problemWith('2001:db8::/32')).toBeUndefined();
    expect(TrustedProxies.problemWith('10.0.0.0/33')).toMatch(/prefix length must be 0\.\.32/);
    expect(TrustedProxies.problemWith('fd00::/129')).toMatch(/0\.\.128/);
    expect(TrustedProxies.problemWith('lb.example.net')).toMatch(/not an IP address or a CIDR subnet/);
    expect(TrustedProxies.problemWith('10.0.0.0/8/8')).toMatch(/not an IP address/);
    expect(() => new TrustedProxies(['10.0.0.1', 'nope'])).toThrow(/"nope"/);
  });
});
