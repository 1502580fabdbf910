// Runs inside the guest: programs the IPVS table and kube-ipvs0 exactly as kube-proxy would for a
// desired-state golden file (hand-reviewed against kube-proxy's rules), as `ipvsadm -R` input.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';

const desired = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const flag = { TCP: '-t', UDP: '-u', SCTP: '--sctp-service' };
const hp = (a, p) => (a.includes(':') ? `[${a}]:${p}` : `${a}:${p}`);
const lines = [];
for (const vs of desired.virtualServers) {
  const id = `${flag[vs.protocol]} ${hp(vs.address, vs.port)}`;
  let line = `-A ${id} -s ${vs.scheduler}`;
  if (vs.flagBits & 1) line += ` -p ${vs.timeout}`;
  if (vs.flagBits & 0x10) line += ' -b mh-port';
  lines.push(line);
  for (const rs of vs.realServers) lines.push(`-a ${id} -r ${hp(rs.address, rs.port)} -m -w ${rs.weight}`);
}
writeFileSync(process.argv[3], lines.join('\n') + '\n');
execFileSync('ipvsadm', ['-R'], { input: lines.join('\n') + '\n' });
for (const a of desired.kubeIpvs0Addresses) {
  execFileSync('ip', ['addr', 'add', a.includes(':') ? `${a}/128` : `${a}/32`, 'dev', 'kube-ipvs0']);
}
