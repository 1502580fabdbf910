/**
 * What the built `ipvs` command loads (`npm run build`, scripts/bundle.mjs; issue 17: its start):
 * the command in one module that shares the errors' classes and libnl with the rest of the CLI, and
 * koffi through dist/netlink/koffi.cjs, which leaves the crypto, https and zlib its downloader
 * requires unloaded, with libnl working through it.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const dist = new URL('../../../dist/', import.meta.url);

describe('the built ipvs command', () => {
  it('is one module importing, of this project\'s, only the errors and libnl, whose classes it shares', () => {
    const command = readFileSync(new URL('cli/ipvs-command.js', dist), 'utf8');
    const relative = [...command.matchAll(/^import .* from "(\.[^"]+)";$/gm)].map((m) => m[1]);
    expect(new Set(relative)).toEqual(new Set(['../errors/index.js', '../netlink/errors.js', '../netlink/libnl.js']));
    expect(command).not.toMatch(/\b(?:class|var|let|const) (?:SentinelError|NetlinkError)\d*\b/);
    expect(command).toMatch(/\b(?:class|var) IpvsReader\b/);
  });
});

describe('the built CLI\'s netlink socket', () => {
  it('requires koffi through the bundle, never the package entry', () => {
    const libnl = readFileSync(new URL('netlink/libnl.js', dist), 'utf8');
    expect(libnl).toContain("require('./koffi.cjs')");
    expect(libnl).not.toContain("require('koffi')");
  });

  it('opens a generic-netlink socket and resolves a family without loading TLS, HTTP, zlib or crypto', () => {
    const script = `
      const { openGenericNetlink } = await import(new URL('netlink/libnl.js', ${JSON.stringify(dist.href)}));
      const socket = openGenericNetlink();
      const nlctrl = socket.resolveFamily('nlctrl');
      socket.close();
      console.log(JSON.stringify({ nlctrl, builtins: process.moduleLoadList }));
    `;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
    const { nlctrl, builtins } = JSON.parse(out) as { nlctrl: number; builtins: string[] };
    // GENL_ID_CTRL, include/uapi/linux/genetlink.h
    expect(nlctrl).toBe(16);
    expect(builtins.filter((m) => /^NativeModule (https|http|tls|zlib|crypto|_tls_wrap|_http_client)$/.test(m))).toEqual([]);
  });
});
