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
  return (fn: string, label: string, extra: { note?: string; mightSleep?: boolean; costNs?: number } = {}): Site => {
    const c = extra.costNs;
    if (c !== undefined && !(typeof c === "number" && Number.isFinite(c) && c >= 0))
      throw new RangeError(`site ${fn} (${label}): costNs must be a finite number of ns >= 0, got ${String(c)}`);
    const site: Site = Object.freeze({ fn, label, source: file.startsWith("(") ? `${file}: ${fn}` : `${file}: ${fn}()`, version, ...extra });
    made.add(site);
    return site;
  };
}

/** Sites made by {@link sitesIn} (their shapes vary with `extra`: a set is faster than testing fields). */
const made = new WeakSet<Site>();

/** True when `v` is a Site: made by {@link sitesIn}, or an object with a string `fn` and `label`. */
export function isSite(v: unknown): v is Site {
  if (typeof v !== "object" || v === null) return false;
  return made.has(v as Site) || (typeof (v as Site).fn === "string" && typeof (v as Site).label === "string");
}
