// Short human labels for the Web UI and logs (pure).
import { shortDigest } from '../model';

export function edgeLabel(image: string, digest: string): string {
  return `${image}@${shortDigest(digest)}`;
}
