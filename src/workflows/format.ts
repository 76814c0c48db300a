// Short human labels for the Web UI and logs (pure).
export function shortDigest(digest: string): string {
  const hex = digest.replace(/^sha256:/, '');
  return `sha256:${hex.slice(0, 12)}`;
}

export function edgeLabel(image: string, digest: string): string {
  return `${image}@${shortDigest(digest)}`;
}
