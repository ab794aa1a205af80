// What kpipe install does to each module under a tree's config, read as Makefile.modinst reads it:
// compression per MODULE_COMPRESS_* with the tree's own commands (6.1 and 6.12 differ), signing under
// MODULE_SIG_ALL with the key where kbuild looks for it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { modinstPolicy } from '../../core/install/modinst-policy.js';
import { kconfigOf } from '../helpers/plan.js';

/** The lines of 6.12's scripts/Makefile.modinst that decide (the gate and the commands). */
const MODINST_6_12 = `suffix-y				:=
ifdef CONFIG_MODULE_COMPRESS_ALL
suffix-$(CONFIG_MODULE_COMPRESS_XZ)	:= .xz
endif
quiet_cmd_gzip = GZIP    $@
      cmd_gzip = $(KGZIP) -n -f $<
quiet_cmd_xz = XZ      $@
      cmd_xz = $(XZ) --check=crc32 --lzma2=dict=1MiB -f $<
quiet_cmd_zstd = ZSTD    $@
      cmd_zstd = $(ZSTD) --rm -f -q $<
`;
/** 6.1's: no MODULE_COMPRESS_ALL, and zstd with -T0. */
const MODINST_6_1 = `suffix-$(CONFIG_MODULE_COMPRESS_ZSTD)	:= .zst
      cmd_zstd = $(ZSTD) -T0 --rm -f -q $<
`;

test('6.12 compresses only with MODULE_COMPRESS_ALL, with the tree\'s xz command and $(XZ)', () => {
  const config = 'CONFIG_MODULE_COMPRESS=y\nCONFIG_MODULE_COMPRESS_XZ=y\n';
  assert.is(modinstPolicy(kconfigOf(config), '/t', MODINST_6_12, {}).compression, undefined);
  assert.equal(modinstPolicy(kconfigOf(`${config}CONFIG_MODULE_COMPRESS_ALL=y\n`), '/t', MODINST_6_12, { XZ: ['/opt/xz'] }).compression, {
    tag: 'XZ', suffix: '.xz', argv: ['/opt/xz', '--check=crc32', '--lzma2=dict=1MiB', '-f'],
  });
});

test('6.1 compresses whenever a method is chosen, with its own zstd options', () => {
  assert.equal(modinstPolicy(kconfigOf('CONFIG_MODULE_COMPRESS_ZSTD=y\n'), '/t', MODINST_6_1, { ZSTD: ['zstd'] }).compression, {
    tag: 'ZSTD', suffix: '.zst', argv: ['zstd', '-T0', '--rm', '-f', '-q'],
  });
});

test('no compression method, no MODULE_SIG_ALL: the module is installed as it is', () => {
  assert.equal(modinstPolicy(kconfigOf('CONFIG_MODULE_SIG=y\n'), '/t', MODINST_6_12, {}), {});
});

test('MODULE_SIG_ALL: sign-file of the tree, the key relative to the tree (or absolute, or a pkcs11 URI)', () => {
  const sig = 'CONFIG_MODULE_SIG=y\nCONFIG_MODULE_SIG_ALL=y\nCONFIG_MODULE_SIG_HASH="sha256"\n';
  assert.equal(modinstPolicy(kconfigOf(`${sig}CONFIG_MODULE_SIG_KEY="output/signing_key.pem"\n`), '/t', MODINST_6_12, {}).signing, {
    hash: 'sha256', key: 'output/signing_key.pem', keyFile: '/t/output/signing_key.pem', cert: 'certs/signing_key.x509', tool: '/t/scripts/sign-file',
  });
  assert.is(modinstPolicy(kconfigOf(`${sig}CONFIG_MODULE_SIG_KEY="/keys/k.pem"\n`), '/t', MODINST_6_12, {}).signing?.keyFile, '/keys/k.pem');
  const pkcs11 = modinstPolicy(kconfigOf(`${sig}CONFIG_MODULE_SIG_KEY="pkcs11:token=x"\n`), '/t', MODINST_6_12, {}).signing;
  assert.is(pkcs11?.key, 'pkcs11:token=x');
  assert.is(pkcs11?.keyFile, undefined, 'a token is not a file to look for');
});

test.run();
