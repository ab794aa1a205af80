// Linux 6.1 (Debian's linux-source-6.1): see kernel-line.ts. 6.1's kbuild passes pahole -j with
// pahole 1.24, so its reference link is kbuild's made deterministic (PAHOLE_FLAGS less -j).
import { kernelLineSuite } from './kernel-line.js';

kernelLineSuite('x86_64-reference-6.1', { line: '6.1', release: /6\.1\.192/, modules: 14, records: ['.vmlinux.cmd'], moduleHashes: { unstripped: 'vmlinux', victim: 'lib/crc8.ko', bystander: 'lib/crc7.ko' }, narrowVmlinuxA: 'AR      vmlinux.a', extmod: 'compare', firstTemporaryLink: /LD {6}\.tmp_vmlinux\.btf/ });
