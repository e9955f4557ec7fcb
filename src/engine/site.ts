/**
 * A step site: one atomic step of a modeled kernel code path, as written in the source.
 *
 * Sites are created once per call site (module constants), so the exploration loop allocates
 * nothing per step for them.
 */
export interface Site {
  /** Kernel function the step belongs to, as in the source: `ext4_da_map_blocks`. */
  readonly fn: string;
  /** Short label: a kernel label (`add_delayed:`) or what the step does ("find hole in es tree"). */
  readonly label: string;
  /** Source file and function: `fs/ext4/inode.c: ext4_da_map_blocks()`. */
  readonly source: string;
  /** Kernel version the step was read from, e.g. `v6.9`. */
  readonly version: string;
  /** The kernel's own comment at that point, or a modeling note. */
  readonly note?: string;
  /** True when the kernel code at this step may sleep (might_sleep(), GFP_KERNEL, cond_resched). */
  readonly mightSleep?: boolean;
  /** Cost of the step in the `timed` mode, ns (before jitter); default by kind of step (see timing.ts). */
  readonly costNs?: number;
}

/**
 * Builds a Site factory for one source file and kernel version:
 * `const at = sitesIn("fs/ext4/inode.c", "v6.9"); const S = at("ext4_da_map_blocks", "find hole")`.
 * A site's `source` is `file: fn()`; for a pseudo-file in parentheses, which names no C function
 * (`(memory model)`: a store buffer's step), `file: fn`.
 */
export function sitesIn(file: string, version: string) {
  // The factory's sites by function: the steps a check expects to see run once one of them has.
  const byFn = new Map<string, Site[]>();
  return (fn: string, label: string, extra: { note?: string; mightSleep?: boolean; costNs?: number } = {}): Site => {
    const c = extra.costNs;
    if (c !== undefined && !(typeof c === "number" && Number.isFinite(c) && c >= 0))
      throw new RangeError(`site ${fn} (${label}): costNs must be a finite number of ns >= 0, got ${String(c)}`);
    const site: Site = Object.freeze({ fn, label, source: file.startsWith("(") ? `${file}: ${fn}` : `${file}: ${fn}()`, version, ...extra });
    made.add(site);
    let group = byFn.get(fn);
    if (group === undefined) byFn.set(fn, (group = []));
    group.push(site);
    const key = siteSourceKey(site);
    // (A site made again with the same text, a notebook cell run twice: the latest factory's group.)
    groupByKey.set(key, group);
    return site;
  };
}

/** Sites made by {@link sitesIn} (their shapes vary with `extra`: a set is faster than testing fields). */
const made = new WeakSet<Site>();
/** Per site key, the sites of its function made by the same {@link sitesIn} factory. */
const groupByKey = new Map<string, readonly Site[]>();
/** Sites derived from another (a primitive's second step), to the site they derive from. */
const bases = new WeakMap<Site, Site>();

/** A site's identity across processes (shards): its source, function and label. */
export function siteSourceKey(site: Site): string {
  return `${site.source}\u0000${site.fn}\u0000${site.label}`;
}

/**
 * Records that `sub` is a step derived from `base` (`subSite()`: a lock primitive's wake step):
 * a step of `sub` counts as one of `base` for {@link unreachedSites}.
 */
export function deriveSite(sub: Site, base: Site): void {
  bases.set(sub, bases.get(base) ?? base);
}

/** The site a step at `site` counts as in {@link unreachedSites}: its base, or itself. */
export function baseSite(site: Site): Site {
  return bases.get(site) ?? site;
}

/** A step of the model's code, by where it is in the source (a {@link Site}'s identity). */
export interface StepRef {
  /** Kernel function: `ext4_da_map_blocks`. */
  readonly fn: string;
  /** The step's label. */
  readonly label: string;
  /** Source file and function: `fs/ext4/inode.c: ext4_da_map_blocks()`. */
  readonly source: string;
}

/**
 * The steps that never ran though their function did: for each reached site key (see
 * {@link siteSourceKey}), the other sites its {@link sitesIn} factory made for the same function that
 * are not reached, in the order they were made. A function none of whose steps ran (another
 * variant's code path, a fix's code) is not listed: only branches of code that did run.
 */
export function unreachedSites(reached: ReadonlySet<string>): StepRef[] {
  const out: StepRef[] = [];
  const seen = new Set<readonly Site[]>();
  for (const key of reached) {
    const group = groupByKey.get(key);
    if (group === undefined || seen.has(group)) continue;
    seen.add(group);
    for (const s of group) if (!reached.has(siteSourceKey(s))) out.push({ fn: s.fn, label: s.label, source: s.source });
  }
  return out;
}

/** True when `v` is a Site: made by {@link sitesIn}, or an object with a string `fn` and `label`. */
export function isSite(v: unknown): v is Site {
  if (typeof v !== "object" || v === null) return false;
  return made.has(v as Site) || (typeof (v as Site).fn === "string" && typeof (v as Site).label === "string");
}
