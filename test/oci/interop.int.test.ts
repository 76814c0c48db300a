// Interop with clients nobody here wrote: skopeo (Debian) and crane (go-containerregistry) read what promoflow
// copied, and promoflow copies what skopeo pushed, digests unchanged.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startRegistry, type LocalRegistry } from '../../src/dev/registry';
import { copyImage, getManifest, RegistryClient, sha256 } from '../../src/oci';
import { type RepositoryRef } from '../../src/model';
import { buildImage, buildIndex, pushImage, type BuiltImage } from '../../src/dev/sample-images';

const run = promisify(execFile);
const SKOPEO = '/usr/bin/skopeo';
const CRANE = join(process.env.PROMOFLOW_TOOLS_DIR ?? join(homedir(), '.cache', 'promoflow', 'tools'), 'bin', 'crane-v0.22.1');

let dir: string;
let src: LocalRegistry;
let dst: LocalRegistry;
const c = new RegistryClient();
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'promoflow-test-oci-interop-'));
  [src, dst] = await Promise.all([startRegistry({ name: 'src', stateDir: dir }), startRegistry({ name: 'dst', stateDir: dir })]);
});
after(async () => {
  c.close();
  await Promise.all([src.stop(), dst.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

async function promote(img: BuiltImage, name: string): Promise<RepositoryRef> {
  const from = { registry: src.host, repository: `staging/${name}` };
  await pushImage(c, from, img);
  const to = { registry: dst.host, repository: `prod/${name}` };
  const res = await copyImage(c, { ...from, digest: img.digest }, [{ repo: to, tags: ['v1'] }]);
  assert.equal(res.digest, img.digest);
  return to;
}

test('skopeo inspect --raw and crane validate read a promoflow-copied index byte for byte', { skip: !existsSync(SKOPEO) && 'skopeo not installed' }, async () => {
  const idx = buildIndex({ seed: 'interop-index', layers: 2, layerBytes: 20_000 });
  const to = await promote(idx, 'multi');
  const raw = await run(SKOPEO, ['inspect', '--raw', '--tls-verify=false', `docker://${dst.host}/${to.repository}@${idx.digest}`], { encoding: 'buffer', maxBuffer: 1 << 24 });
  assert.equal(sha256(raw.stdout), idx.digest);
  const byTag = await run(SKOPEO, ['inspect', '--raw', '--tls-verify=false', `docker://${dst.host}/${to.repository}:v1`], { encoding: 'buffer', maxBuffer: 1 << 24 });
  assert.equal(sha256(byTag.stdout), idx.digest);
  if (existsSync(CRANE)) {
    await run(CRANE, ['validate', '--insecure', '--remote', `${dst.host}/${to.repository}@${idx.digest}`]);
    for (const ch of idx.children) await run(CRANE, ['validate', '--insecure', '--remote', `${dst.host}/${to.repository}@${ch.digest}`]);
  }
});

test('skopeo copy to dir: gets exactly the promoflow-copied manifest and blobs', { skip: !existsSync(SKOPEO) && 'skopeo not installed' }, async () => {
  const img = buildImage({ seed: 'interop-dir', layers: 3, layerBytes: 30_000 });
  const to = await promote(img, 'single');
  const out = join(dir, 'dir-copy');
  await run(SKOPEO, ['copy', '--src-tls-verify=false', `docker://${dst.host}/${to.repository}@${img.digest}`, `dir:${out}`]);
  assert.equal(sha256(readFileSync(join(out, 'manifest.json'))), img.digest);
  for (const b of img.blobs) assert.deepEqual(readFileSync(join(out, b.digest.slice('sha256:'.length))), b.bytes);
});

test('an image skopeo pushed from an oci: layout is copied by promoflow with identical digests', { skip: !existsSync(SKOPEO) && 'skopeo not installed' }, async () => {
  const img = buildImage({ seed: 'skopeo-pushed', layers: 2, layerBytes: 25_000 });
  const layout = join(dir, 'layout');
  mkdirSync(join(layout, 'blobs', 'sha256'), { recursive: true });
  writeFileSync(join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  for (const b of [...img.blobs, { digest: img.digest, bytes: img.manifest }]) writeFileSync(join(layout, 'blobs', 'sha256', b.digest.slice(7)), b.bytes);
  writeFileSync(
    join(layout, 'index.json'),
    JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: img.mediaType, digest: img.digest, size: img.manifest.length, annotations: { 'org.opencontainers.image.ref.name': 'v1' } }] }),
  );
  await run(SKOPEO, ['copy', '--preserve-digests', '--dest-tls-verify=false', `oci:${layout}:v1`, `docker://${src.host}/skopeo/app:v1`]);
  const pushed = await getManifest(c, { registry: src.host, repository: 'skopeo/app' }, 'v1');
  assert.equal(pushed.digest, img.digest);
  const to = { registry: dst.host, repository: 'prod/skopeo-app' };
  const res = await copyImage(c, { registry: src.host, repository: 'skopeo/app', digest: pushed.digest }, [{ repo: to, tags: ['v1'] }]);
  assert.equal(res.digest, img.digest);
  assert.equal((await getManifest(c, to, 'v1')).digest, img.digest);
  if (existsSync(CRANE)) await run(CRANE, ['validate', '--insecure', '--remote', `${dst.host}/${to.repository}:v1`]);
});
