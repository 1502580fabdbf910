/**
 * The real-IPVS guest: a stock Debian kernel booted under QEMU (TCG) with this machine's root
 * shared read-only over 9p and a tmpfs overlay on top, so the guest runs the host's node, libnl,
 * ipvsadm and this checkout against the real Linux IPVS code (docs/real-ipvs-guest.md).
 *
 * One call boots the guest, runs a bash script inside it, powers off and returns the script's
 * exit code, stdout, stderr and any files it wrote to $OUT.
 */
import { spawn, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, copyFileSync, writeFileSync, chmodSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const VM_DIR = join(REPO_ROOT, 'test', 'guest', 'vm');
const CACHE_DIR = join(REPO_ROOT, '.cache', 'guest');

/** Modules the initramfs loads, in dependency order, to reach the 9p root and the overlay. */
const INITRAMFS_MODULES = [
  'virtio_ring',
  'virtio',
  'virtio_pci_modern_dev',
  'virtio_pci_legacy_dev',
  'virtio_pci',
  'netfs',
  'fscache',
  '9pnet',
  '9pnet_virtio',
  '9p',
  'overlay',
];

export interface GuestOptions {
  /** Bash script run as root inside the guest, in the repository directory; $OUT is a writable results folder. */
  script: string;
  /** Extra files placed next to the script ($JOB/<name>). */
  files?: Record<string, string>;
  timeoutMs?: number;
  memoryMb?: number;
  cpus?: number;
  /** Environment for the script (PATH, HOME, OUT, JOB, REPO, NODE are always set). */
  env?: Record<string, string>;
}

export interface GuestResult {
  /** The script's exit code; null when it never finished (timeout, kernel panic). */
  exitCode: number | null;
  stdout: string;
  stderr: string;
  /** The serial console: kernel and init messages, for diagnosing a failed boot. */
  console: string;
  durationMs: number;
  /** A file the script wrote to $OUT, or null. */
  output(name: string): string | null;
  outputs(): string[];
}

/** A file the guest must have written to $OUT; its absence fails the test with the guest's stderr. */
export function requireOutput(result: GuestResult, name: string): string {
  const text = result.output(name);
  if (text === null) throw new Error(`the guest wrote no ${name}\n${result.stderr}`);
  return text;
}

export interface GuestKernel {
  release: string;
  vmlinuz: string;
}

/** The newest installed Debian kernel whose modules include IPVS. */
export function findGuestKernel(): GuestKernel | null {
  if (!existsSync('/boot')) return null;
  const releases = readdirSync('/boot')
    .filter((f) => f.startsWith('vmlinuz-'))
    .map((f) => f.slice('vmlinuz-'.length))
    .filter((r) => existsSync(`/lib/modules/${r}/kernel/net/netfilter/ipvs/ip_vs.ko`))
    .sort();
  const release = releases.at(-1);
  return release ? { release, vmlinuz: `/boot/vmlinuz-${release}` } : null;
}

/** Why the guest cannot run here, or null when it can. */
export function guestUnavailableReason(): string | null {
  if (!findGuestKernel()) return 'no Debian kernel with IPVS modules in /boot (apt-get install linux-image-amd64)';
  for (const bin of ['qemu-system-x86_64', 'busybox', 'cpio', 'gzip', 'modinfo']) {
    try {
      execFileSync('sh', ['-c', `command -v ${bin} || test -x /bin/${bin} || test -x /sbin/${bin}`], { stdio: 'ignore' });
    } catch {
      return `${bin} is not installed`;
    }
  }
  return null;
}

function buildInitramfs(kernel: GuestKernel): string {
  const init = readFileSync(join(VM_DIR, 'init.sh'));
  const hash = createHash('sha256').update(init).update(kernel.release).update(INITRAMFS_MODULES.join(',')).digest('hex').slice(0, 12);
  const target = join(CACHE_DIR, `initramfs-${kernel.release}-${hash}.cpio.gz`);
  if (existsSync(target)) return target;
  mkdirSync(CACHE_DIR, { recursive: true });
  const root = mkdtempSync(join(tmpdir(), 'ipvs-guest-initramfs-'));
  try {
    mkdirSync(join(root, 'bin'));
    mkdirSync(join(root, 'modules'));
    const busybox = ['/bin/busybox', '/usr/bin/busybox'].find((p) => existsSync(p));
    if (!busybox) throw new Error('busybox-static is not installed');
    copyFileSync(busybox, join(root, 'bin', 'busybox'));
    chmodSync(join(root, 'bin', 'busybox'), 0o755);
    copyFileSync(join(VM_DIR, 'init.sh'), join(root, 'init'));
    chmodSync(join(root, 'init'), 0o755);
    for (const mod of INITRAMFS_MODULES) {
      const file = execFileSync('modinfo', ['-k', kernel.release, '-F', 'filename', mod], { encoding: 'utf8' }).trim();
      copyFileSync(file, join(root, 'modules', `${mod}.ko`));
    }
    writeFileSync(join(root, 'modules.order'), INITRAMFS_MODULES.join('\n') + '\n');
    const partial = `${target}.${process.pid}.tmp`;
    execFileSync('sh', ['-c', `cd '${root}' && find . | cpio -o -H newc --quiet | gzip -1 > '${partial}' && mv '${partial}' '${target}'`]);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  return target;
}

const PRELUDE = `#!/bin/bash
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH
export HOME=/root LANG=C.UTF-8
cd "$REPO"
# The node network kube-proxy would see: a dummy "eth0" with the node address, so masquerading
# real servers are routable, plus loopback up.
guest_node_network() {
  modprobe dummy
  ip link set lo up
  ip link add eth0 type dummy 2>/dev/null || true
  ip addr add "\${1:-10.0.0.10/24}" dev eth0
  ip addr add 10.244.0.1/16 dev eth0
  ip -6 addr add fd00:10::10/64 dev eth0 nodad 2>/dev/null || true
  ip -6 addr add fd00:244::1/64 dev eth0 nodad 2>/dev/null || true
  ip link set eth0 up
}
export -f guest_node_network
`;

export async function runInGuest(options: GuestOptions): Promise<GuestResult> {
  const kernel = findGuestKernel();
  if (!kernel) throw new Error(guestUnavailableReason() ?? 'no guest kernel');
  const initramfs = buildInitramfs(kernel);
  const out = mkdtempSync(join(tmpdir(), 'ipvs-guest-out-'));
  const job = join(out, 'job');
  mkdirSync(job);
  const results = join(out, 'results');
  mkdirSync(results);
  for (const [name, text] of Object.entries(options.files ?? {})) writeFileSync(join(job, name), text);
  const env: Record<string, string> = {
    REPO: REPO_ROOT,
    OUT: '/mnt/results',
    JOB: '/mnt/job',
    NODE: process.execPath,
    ...options.env,
  };
  const exports = Object.entries(env)
    .map(([k, v]) => `export ${k}='${v.replaceAll("'", `'\\''`)}'`)
    .join('\n');
  writeFileSync(join(job, 'script.sh'), `${PRELUDE}\n${options.script}\n`);
  writeFileSync(
    join(job, 'run.sh'),
    `${exports}\nbash /mnt/job/script.sh > /mnt/results/.stdout 2> /mnt/results/.stderr < /dev/null\necho $? > /mnt/results/.exitcode\nsync\n`,
  );

  const started = Date.now();
  const args = [
    '-accel', 'tcg,thread=multi',
    '-cpu', 'max',
    '-smp', String(options.cpus ?? 2),
    '-m', String(options.memoryMb ?? 2048),
    '-nographic', '-no-reboot', '-nic', 'none',
    '-kernel', kernel.vmlinuz,
    '-initrd', initramfs,
    '-append', 'console=ttyS0 quiet panic=-1 oops=panic',
    '-virtfs', 'local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap',
    '-virtfs', `local,path=${out},mount_tag=guestout,security_model=none`,
  ];
  const consoleChunks: Buffer[] = [];
  const timeoutMs = options.timeoutMs ?? 300_000;
  await new Promise<void>((resolvePromise, reject) => {
    const qemu = spawn('qemu-system-x86_64', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const timer = setTimeout(() => qemu.kill('SIGKILL'), timeoutMs);
    qemu.stdout.on('data', (c: Buffer) => consoleChunks.push(c));
    qemu.stderr.on('data', (c: Buffer) => consoleChunks.push(c));
    qemu.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    qemu.on('close', () => {
      clearTimeout(timer);
      resolvePromise();
    });
  });
  const read = (name: string): string | null => {
    const p = join(results, name);
    return existsSync(p) ? readFileSync(p, 'utf8') : null;
  };
  const code = read('.exitcode');
  return {
    exitCode: code === null ? null : Number(code.trim()),
    stdout: read('.stdout') ?? '',
    stderr: read('.stderr') ?? '',
    console: Buffer.concat(consoleChunks).toString('utf8'),
    durationMs: Date.now() - started,
    output: read,
    outputs: () => readdirSync(results).filter((f) => !f.startsWith('.')),
  };
}

/** A kubeconfig for the API stand-in the guest scripts start on 127.0.0.1:6443 (test/guest/standin-server.ts). */
export const STANDIN_KUBECONFIG = `apiVersion: v1
kind: Config
clusters:
- name: standin
  cluster:
    server: http://127.0.0.1:6443
    # client-node refuses a plain-http server unless TLS verification is explicitly skipped
    insecure-skip-tls-verify: true
users:
- name: standin
  user: {}
contexts:
- name: standin
  context:
    cluster: standin
    user: standin
current-context: standin
`;

/** Where a guest script finds the kubeadm fixture cluster as JSON: "$JOB/" + this, given `kubeadmStateFiles()` as files. */
export const KUBEADM_STATE_JSON = 'kubeadm-ipv4.json';

/**
 * The kubeadm fixture cluster (test/fixtures/cluster/kubeadm-ipv4.yaml) as `kubectl get -o json`
 * writes it, for the guest scripts' many one-shot commands: under emulation, the yaml package's code
 * runs cold in every process, and parsing the YAML took about 1.3 s of a 7 s `check` — a minute of
 * each guest pass of the suite. Reading YAML is proven on the host (test/unit/cluster/), and in the
 * guest by the table `check` of check.test.ts and migration.test.ts's multi-document file.
 */
export function kubeadmStateFiles(): Record<string, string> {
  const yaml = readFileSync(join(REPO_ROOT, 'test', 'fixtures', 'cluster', 'kubeadm-ipv4.yaml'), 'utf8');
  return { [KUBEADM_STATE_JSON]: `${JSON.stringify(parse(yaml), null, 4)}\n` };
}

/** A TypeScript program the guest scripts start, as one ES module for the guest's node. */
export interface GuestProgram {
  /** Where a guest script finds it, from the checkout's root (the scripts' working directory). */
  readonly path: string;
  /** Builds it on the host (esbuild, a fraction of a second); before the guest boots. */
  build(): Promise<void>;
}

/**
 * A program of the guest tests (the API stand-ins, test/guest/standin-server.ts and
 * auth-standin.ts), bundled under .cache/guest/: started through tsx, the stand-in took 10–16 s to
 * come up under emulation (tsx alone ~8 s cold), and the scripts wait for it before the agent
 * starts. Packages stay imports, found in the checkout's node_modules above .cache/.
 */
export function guestProgram(entry: string): GuestProgram {
  const target = join(CACHE_DIR, basename(entry).replace(/\.ts$/, '.mjs'));
  return {
    path: relative(REPO_ROOT, target),
    async build() {
      const { build } = await import('esbuild');
      const result = await build({
        entryPoints: [join(REPO_ROOT, entry)],
        bundle: true,
        platform: 'node',
        format: 'esm',
        target: 'node20',
        packages: 'external',
        write: false,
        logLevel: 'warning',
      });
      const code = result.outputFiles[0];
      if (code === undefined) throw new Error(`esbuild wrote nothing for ${entry}`);
      mkdirSync(CACHE_DIR, { recursive: true });
      // Whole or not at all: a guest never starts half a file.
      const partial = `${target}.${process.pid}.tmp`;
      writeFileSync(partial, code.contents);
      renameSync(partial, target);
    },
  };
}

/** The Kubernetes API stand-in (test/guest/standin-server.ts), built for the guest. */
export const STANDIN_SERVER = guestProgram('test/guest/standin-server.ts');
