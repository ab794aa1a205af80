// module-sign: sign every module with the organisation's key as it is linked, using kbuild's own
// `scripts/sign-file` (what `make modules_install` runs with CONFIG_MODULE_SIG_ALL), so the .ko files
// of the build tree are the signed ones a distribution packages.
//
// It shows the other way a plugin contributes: not a step of its own but an in-place edit of a file
// another plugin's step writes (`moduleLinked`, after the module's `ld -r` and its BTF). kpipe runs
// the edit on the step's temporary file before renaming it into place, so a rebuild signs a freshly
// linked module and never appends a second signature to a signed one; the key and certificate are
// inputs of the step, so a new key re-signs every module.
import { error, KpipeError, MODULE_LINKED_ORDER, type KpipeHooks, type KpipePlugin, type PluginContext } from 'kpipe';

/** kbuild builds it in the output tree when CONFIG_MODULE_SIG_FORMAT is set. */
const SIGN_FILE = 'scripts/sign-file';

export const moduleSignPlugin: KpipePlugin = {
  name: 'module-sign',
  description: "signs each .ko with scripts/sign-file as it is linked (the org's key)",
  options: {
    key: { description: 'the private key (PEM, or a PKCS#11 URI), relative to the output tree', default: 'certs/signing_key.pem' },
    cert: { description: 'the X.509 certificate (DER)', default: 'certs/signing_key.x509' },
    hash: { description: 'the digest; empty: CONFIG_MODULE_SIG_HASH', default: '' },
  },
  apply(hooks: KpipeHooks, ctx: PluginContext): void {
    const { key, cert, hash } = settings(ctx);
    // A PKCS#11 URI names a token, not a file: it cannot be an input.
    const inputs = [SIGN_FILE, cert, ...(key.startsWith('pkcs11:') ? [] : [key])];
    hooks.moduleLinked.for(ctx.stage).tap({ name: ctx.name, stage: MODULE_LINKED_ORDER.SIGNATURE }, (module) => {
      module.edit(ctx.name, {
        label: { tag: 'SIGN [M]', target: module.path },
        action: { kind: 'exec', argv: [`./${SIGN_FILE}`, hash, key, cert, module.path] },
        note: `signed with ${key} (${hash})`,
      }, inputs);
    });
  },
};

export default moduleSignPlugin;

function settings(ctx: PluginContext): { key: string; cert: string; hash: string } {
  const text = (name: 'key' | 'cert' | 'hash'): string => {
    const value = ctx.options[name];
    if (typeof value !== 'string') throw new KpipeError([error('module-sign-option', `option '${name}' must be a string, not ${typeof value}`)]);
    return value;
  };
  const hash = text('hash') || ctx.kconfig.get('MODULE_SIG_HASH') || '';
  if (!/^sha(1|224|256|384|512|3-256|3-384|3-512)$/.test(hash)) {
    throw new KpipeError([error('module-sign-hash', hash ? `'${hash}' is not a digest sign-file knows` : `no digest: ${ctx.kconfig.describe('MODULE_SIG_HASH')} and no hash option`, {
      hint: `use ${ctx.name}(hash = "sha512"), or set CONFIG_MODULE_SIG_HASH`,
    })]);
  }
  return { key: text('key'), cert: text('cert'), hash };
}
