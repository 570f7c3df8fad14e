/** A fresh zip path in the data folder's exports/, written with the data folder's own separator. */
export function defaultExportPath(dataDir: string, now: Date): string {
  const sep = dataDir.includes('\\') && !dataDir.includes('/') ? '\\' : '/';
  const stamp = now.toISOString().slice(0, 16).replace(/[-:]/g, '').replace('T', '-');
  const base = dataDir.replace(/[\\/]+$/, '');
  return `${base}${sep}exports${sep}yoso-${stamp}.zip`;
}
