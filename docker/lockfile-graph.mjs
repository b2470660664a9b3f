/**
 * The lockfile paths (`node_modules/a`, `node_modules/a/node_modules/b`) of the packages `names`
 * need, found as Node resolves them: the nearest `node_modules/<name>` from the dependent up to the
 * top. `lock` is the `packages` map of a package-lock.json (or the .package-lock.json `npm ci`
 * writes); dev-only entries are left out. The walk does not go past `stopAt` (that path itself is
 * included). Used by docker/prune-node-modules.mjs and scripts/check-docker-prune.mjs.
 */
export function reachable(lock, names, stopAt) {
  const found = new Set();
  const visit = (from, name) => {
    for (let base = from; ; base = base.slice(0, Math.max(0, base.lastIndexOf('/node_modules/')))) {
      const path = `${base ? `${base}/` : ''}node_modules/${name}`;
      if (lock[path] && !lock[path].dev) {
        if (found.has(path)) return;
        found.add(path);
        if (path === stopAt) return;
        const { dependencies, optionalDependencies, peerDependencies } = lock[path];
        for (const dep of Object.keys({ ...dependencies, ...optionalDependencies, ...peerDependencies })) {
          visit(path, dep);
        }
        return;
      }
      if (base === '') return;
    }
  };
  for (const name of names) visit('', name);
  return found;
}
