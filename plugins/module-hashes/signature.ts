// The module signature trailer that carries a module's Merkle proof (DESIGN.md section 5), in the
// layout of the kernel's appended module signatures (include/linux/module_signature.h):
//
//   [module bytes][proof: be32 position, depth * 32-byte siblings]
//   [struct module_signature, 12 bytes][magic "~Module signature appended~\n", 28 bytes]
//
//   struct module_signature {
//     u8 algo;        0
//     u8 hash;        0
//     u8 id_type;     3 = PKEY_ID_MERKLE (kpipe's value: the kernel has PKEY_ID_PGP 0, PKEY_ID_X509 1,
//                       PKEY_ID_PKCS7 2; the hash series' Merkle id is not in 6.12, so we take the next)
//     u8 signer_len;  0
//     u8 key_id_len;  0
//     u8 __pad[3];    0
//     __be32 sig_len; length of the proof
//   };

export const MODULE_SIG_MAGIC = '~Module signature appended~\n';
export const MODULE_SIG_STRUCT_SIZE = 12;
/** Our id_type for a Merkle proof (see the header comment). */
export const PKEY_ID_MERKLE = 3;

/** The bytes appended to a module: proof, struct module_signature, magic. */
export function encodeSignature(proof: Buffer): Buffer {
  const info = Buffer.alloc(MODULE_SIG_STRUCT_SIZE);
  info[0] = 0; // algo
  info[1] = 0; // hash
  info[2] = PKEY_ID_MERKLE; // id_type
  info[3] = 0; // signer_len
  info[4] = 0; // key_id_len
  info.writeUInt32BE(proof.length, 8); // sig_len
  return Buffer.concat([proof, info, Buffer.from(MODULE_SIG_MAGIC, 'latin1')]);
}

export interface ParsedSignature {
  /** The module's bytes before the signature. */
  content: Buffer;
  proof: Buffer;
  idType: number;
}

/** Splits a signed module; throws with the reason when it carries no (Merkle) signature. */
export function parseSignature(file: Buffer): ParsedSignature {
  const magic = Buffer.from(MODULE_SIG_MAGIC, 'latin1');
  if (file.length < magic.length + MODULE_SIG_STRUCT_SIZE || !file.subarray(file.length - magic.length).equals(magic)) {
    throw new Error('no module signature (the magic is missing)');
  }
  const infoAt = file.length - magic.length - MODULE_SIG_STRUCT_SIZE;
  const info = file.subarray(infoAt, infoAt + MODULE_SIG_STRUCT_SIZE);
  const idType = info[2]!;
  if (idType !== PKEY_ID_MERKLE) throw new Error(`the module signature is not a Merkle proof (id_type ${idType}, expected ${PKEY_ID_MERKLE})`);
  if (info[0] !== 0 || info[1] !== 0 || info[3] !== 0 || info[4] !== 0) throw new Error('the module signature header has non-zero algo/hash/signer/key id fields');
  const sigLen = info.readUInt32BE(8);
  if (sigLen > infoAt) throw new Error(`the module signature claims ${sigLen} bytes of proof, the file has ${infoAt} before it`);
  return { content: file.subarray(0, infoAt - sigLen), proof: file.subarray(infoAt - sigLen, infoAt), idType };
}
