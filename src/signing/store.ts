// Registry access as signing needs it, passed in by the caller (src/activities over src/oci in production, an
// in-memory fake in unit tests): read a tag or blob, push a tagged artifact or a referrer, list referrers. Signing
// itself never opens a connection.
import type { SubjectDescriptor } from '../model';
import type { Artifact } from './artifacts';
import type { ArtifactReader } from './verify';

export interface ArtifactStore extends ArtifactReader {
  /** The digest a tag resolves to (a HEAD), or null when the tag does not exist. */
  digest(tag: string): Promise<string | null>;
  /** Push a .sig/.att image under its tag: blobs first, then the manifest. */
  push(tag: string, artifact: Artifact): Promise<void>;
  /** Push a referrer (blobs, the manifest by digest) and list it for its subject. */
  pushReferrer(artifact: Artifact): Promise<void>;
  /** Referrers of a subject digest, of one artifact type. */
  referrers(subject: string, artifactType: string): Promise<SubjectDescriptor[]>;
}
