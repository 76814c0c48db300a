// htpasswd files for registry Basic-auth tests. distribution accepts only bcrypt entries.
import { writeFileSync } from 'node:fs';
import bcrypt from 'bcryptjs';

export function htpasswdLine(user: string, password: string): string {
  // Cost 5 keeps registry-side verification cheap in tests; the format is what matters.
  return `${user}:${bcrypt.hashSync(password, 5)}`;
}

export function writeHtpasswd(path: string, users: Record<string, string>): string {
  writeFileSync(path, Object.entries(users).map(([u, p]) => htpasswdLine(u, p)).join('\n') + '\n', { mode: 0o600 });
  return path;
}
