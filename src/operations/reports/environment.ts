/**
 * Extension hooks a bank's IT has installed (the seed's 二次开发, "is customised functionality
 * running"): the extension capability registers a lister here; until then the report says none.
 */
type HookLister = () => string[];
const listers: HookLister[] = [];

export function registerInstalledHooks(lister: HookLister): () => void {
  listers.push(lister);
  return () => {
    const i = listers.indexOf(lister);
    if (i >= 0) listers.splice(i, 1);
  };
}

export function installedHooks(): string[] {
  return listers.flatMap((l) => l());
}
