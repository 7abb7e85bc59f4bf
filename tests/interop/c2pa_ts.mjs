// Drives @trustnxt/c2pa-ts, a TypeScript C2PA implementation independent of c2pa-rs, for
// tests/test_interop_c2pa_ts.py. Two commands, JSON on stdout:
//
//   node c2pa_ts.mjs read FILE
//   node c2pa_ts.mjs sign INPUT OUTPUT --key PKCS8.pem --chain CHAIN.pem [--ai]
//
// `read` validates the active manifest (c2pa-ts checks signatures and hashes, not the chain
// of trust) and reports its actions and ingredients. `sign` writes a C2PA manifest with a
// data hash, a c2pa.actions.v2 assertion (c2pa.created) and the given signer.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs/promises';
import { X509Certificate } from '@peculiar/x509';
import { BMFF, JPEG, PNG } from '@trustnxt/c2pa-ts/asset';
import { CoseAlgorithmIdentifier, LocalSigner } from '@trustnxt/c2pa-ts/cose';
import { SuperBox } from '@trustnxt/c2pa-ts/jumbf';
import {
    ActionAssertion,
    ClaimVersion,
    DataHashAssertion,
    IngredientAssertion,
    ManifestStore,
    ValidationResult,
} from '@trustnxt/c2pa-ts/manifest';

// c2pa-ts uses the global WebCrypto, which Node only exposes by default from version 19.
globalThis.crypto ??= crypto.webcrypto;

const TRAINED = 'http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia';
const DIGITAL_CREATION = 'http://cv.iptc.org/newscodes/digitalsourcetype/digitalCreation';

function openAsset(buf) {
    for (const [name, type] of [
        ['jpeg', JPEG],
        ['png', PNG],
        ['bmff', BMFF],
    ]) {
        if (type.canRead(buf)) return { format: name, asset: new type(buf) };
    }
    return { format: null, asset: null };
}

async function read(file) {
    const buf = new Uint8Array(await fs.readFile(file));
    const { format, asset } = openAsset(buf);
    const out = { format, manifest: false, valid: false, status: [], actions: [], ingredients: [] };
    if (!asset) return out;
    const jumbf = asset.getManifestJUMBF();
    if (!jumbf) return out;
    out.manifest = true;
    let result;
    try {
        const store = ManifestStore.read(SuperBox.fromBuffer(jumbf));
        result = await store.validate(asset);
        const active = store.getActiveManifest();
        out.claimVersion = active?.claim?.version === ClaimVersion.V2 ? 2 : 1;
        for (const a of active?.assertions?.assertions ?? []) {
            if (a instanceof ActionAssertion) {
                for (const act of a.actions)
                    out.actions.push({
                        action: act.action,
                        digitalSourceType: act.digitalSourceType ?? null,
                        softwareAgent: act.softwareAgent?.name ?? null,
                    });
            } else if (a instanceof IngredientAssertion) {
                out.ingredients.push({ title: a.title ?? null, relationship: a.relationship ?? null });
            }
        }
    } catch (e) {
        // c2pa-ts reports malformed content as exceptions; keep a well-formed result
        result = ValidationResult.fromError(e);
    }
    out.valid = result.isValid;
    out.status = result.statusEntries.map(s => ({
        code: s.code,
        success: s.success,
        url: s.url ?? null,
        explanation: s.explanation ?? null,
    }));
    return out;
}

function pemBlocks(text) {
    return [...text.matchAll(/-----BEGIN [^-]+-----([\s\S]*?)-----END [^-]+-----/g)].map(
        m => new Uint8Array(Buffer.from(m[1].replace(/\s/g, ''), 'base64')),
    );
}

// c2pa-ts's LocalSigner returns ECDSA signatures DER-encoded (WebCrypto's raw output
// converted to ASN.1), but a COSE_Sign1 signature, as C2PA requires, is the raw r||s.
function derToRaw(der, size) {
    const readInt = pos => {
        if (der[pos] !== 0x02) throw new Error('ECDSA signature: INTEGER expected');
        const len = der[pos + 1];
        let v = der.subarray(pos + 2, pos + 2 + len);
        while (v.length > size && v[0] === 0) v = v.subarray(1);
        if (v.length > size) throw new Error('ECDSA signature: integer too long');
        const padded = new Uint8Array(size);
        padded.set(v, size - v.length);
        return { value: padded, next: pos + 2 + len };
    };
    if (der[0] !== 0x30) throw new Error('ECDSA signature: SEQUENCE expected');
    const start = der[1] & 0x80 ? 2 + (der[1] & 0x7f) : 2;
    const r = readInt(start);
    const s = readInt(r.next);
    const raw = new Uint8Array(2 * size);
    raw.set(r.value, 0);
    raw.set(s.value, size);
    return raw;
}

class RawEcdsaSigner {
    constructor(inner, size) {
        this.inner = inner;
        this.size = size;
        this.algorithm = inner.algorithm;
        this.certificate = inner.certificate;
        this.chainCertificates = inner.chainCertificates;
    }

    async sign(payload) {
        const sig = await this.inner.sign(payload);
        return sig.length === 2 * this.size ? sig : derToRaw(sig, this.size);
    }
}

async function sign(input, output, opts) {
    const keyDer = pemBlocks(await fs.readFile(opts.key, 'utf8'))[0];
    const [leaf, ...chain] = pemBlocks(await fs.readFile(opts.chain, 'utf8')).map(
        der => new X509Certificate(der),
    );
    const curve = crypto.createPrivateKey({ key: Buffer.from(keyDer), format: 'der', type: 'pkcs8' })
        .asymmetricKeyDetails?.namedCurve;
    if (curve !== 'prime256v1') throw new Error(`only P-256 keys are wired up here, not ${curve}`);
    const signer = new RawEcdsaSigner(new LocalSigner(keyDer, CoseAlgorithmIdentifier.ES256, leaf, chain), 32);

    const buf = new Uint8Array(await fs.readFile(input));
    const { format, asset } = openAsset(buf);
    if (!asset || format === 'bmff') throw new Error(`${input}: c2pa-ts signs JPEG and PNG here`);

    const store = new ManifestStore();
    const manifest = store.createManifest({
        claimVersion: ClaimVersion.V2,
        assetFormat: asset.mimeType,
        instanceID: `xmp:iid:${crypto.randomUUID()}`,
        defaultHashAlgorithm: 'SHA-256',
        signer,
    });
    manifest.claim.claimGeneratorName = 'c2pa-ts interop test';
    const actions = new ActionAssertion();
    actions.actions = [
        {
            action: 'c2pa.created',
            digitalSourceType: opts.ai ? TRAINED : DIGITAL_CREATION,
            softwareAgent: { name: 'c2pa-ts interop test' },
        },
    ];
    manifest.addAssertion(actions);
    const dataHash = DataHashAssertion.create('SHA-256');
    manifest.addAssertion(dataHash);

    await asset.ensureManifestSpace(store.measureSize());
    await dataHash.updateWithAsset(asset);
    await manifest.sign(signer);
    await asset.writeManifestJUMBF(store.getBytes());
    await fs.writeFile(output, await asset.getDataRange());
    return { written: output, format, label: manifest.label };
}

function parseOpts(args) {
    const opts = { ai: false };
    for (let i = 0; i < args.length; i++) {
        if (args[i] === '--ai') opts.ai = true;
        else if (args[i] === '--key') opts.key = args[++i];
        else if (args[i] === '--chain') opts.chain = args[++i];
        else throw new Error(`unknown option ${args[i]}`);
    }
    if (!opts.key || !opts.chain) throw new Error('--key and --chain are required');
    return opts;
}

const [cmd, ...rest] = process.argv.slice(2);
let result;
if (cmd === 'read' && rest.length === 1) result = await read(rest[0]);
else if (cmd === 'sign' && rest.length >= 2) result = await sign(rest[0], rest[1], parseOpts(rest.slice(2)));
else {
    process.stderr.write('usage: c2pa_ts.mjs read FILE | sign IN OUT --key K --chain C [--ai]\n');
    process.exit(2);
}
process.stdout.write(JSON.stringify(result) + '\n');
