// Linux 7.2 (Debian unstable's linux-source-7.2): see kernel-line.ts. On 7.2 kbuild's link also writes
// vmlinux.unstripped (vmlinux is its objcopy) and modules.builtin(.modinfo) from it.
import { kernelLineSuite } from './kernel-line.js';

kernelLineSuite('x86_64-reference-7.2', {
  line: '7.2',
  release: /7\.2\.13/,
  records: ['.vmlinux.unstripped.cmd', '.vmlinux.cmd', '.modules.builtin.modinfo.cmd', '.modules.builtin.cmd'],
  modules: 14,
  extra: ['vmlinux.unstripped', 'modules.builtin.modinfo', 'modules.builtin'],
  firstTemporaryLink: /LD {6}\.tmp_vmlinux1/,
  moduleHashes: { unstripped: 'vmlinux.unstripped', victim: 'lib/crc/crc7.ko', bystander: 'lib/crc/crc16.ko' },
  narrowVmlinuxA: 'MAKE    vmlinux_a',
  extmod: 'refused',
});
