/**
 * TypeDoc plugin for `npm run docs`: page file names keep a kernel name's leading underscores.
 * typedoc-plugin-markdown strips them, so `__set_bit()`'s page was `functions/set_bit.md` and
 * `set_bit()`'s `functions/set_bit-1.md`: a reader opening set_bit.md read the non-atomic
 * variant's documentation. Selected by `"router": "kernel-names"` in typedoc.json.
 */
import { MemberRouter } from "typedoc-plugin-markdown";

class KernelNameRouter extends MemberRouter {
  getReflectionAlias(reflection) {
    const alias = super.getReflectionAlias(reflection);
    const lead = /^_+/.exec(reflection.name)?.[0] ?? "";
    return alias.startsWith(lead) ? alias : lead + alias;
  }
}

/** TypeDoc's plugin entry point. */
export function load(app) {
  app.renderer.defineRouter("kernel-names", KernelNameRouter);
}
