import { check, type CheckResult } from "./check.js";
import type { MemoryModel } from "./memory.js";
import { lookupScenario, type AnyScenario, type SourceRef } from "./scenario.js";

/** A claim's outcome (JSON contract of `racelab claims --json`). */
export interface ClaimResult {
  /** Claim id, unique within its scenario. */
  readonly id: string;
  /** Scenario id. */
  readonly scenario: string;
  /** Seed file and message: `002_33cf....txt: Zhang Yi, 2024-05-17, "[PATCH v5 02/10] ..."`. */
  readonly source: string;
  /** The claim in a sentence, as the thread makes it. */
  readonly statement: string;
  /** What the thread expects the model to show. */
  readonly expected: string;
  /** What exhaustive exploration of the model showed. */
  readonly observed: string;
  /** Whether the claim holds in the model. */
  readonly holds: boolean;
}

/**
 * Formats a SourceRef as one line: `<seed>: <author>, <date>, "<subject>"` (without `<seed>: ` for
 * a source outside the seeds), or the link for a free-text source; `—` for a scenario that names
 * no thread (defineScenario() then fills in only its title, which is no source).
 */
export function formatSource(s: SourceRef): string {
  // A source given as free text (a lore link, a document) has no seed file, author or date.
  if (!s.seed && !s.author && !s.date) return s.link ?? "—";
  return `${s.seed ? `${s.seed}: ` : ""}${s.author}, ${s.date}, "${s.subject}"`;
}

/** Whether `s` names a source: a seed, a message or a link ({@link formatSource} gives more than `—`). */
export function namesSource(s: SourceRef): boolean {
  return formatSource(s) !== "—";
}

/**
 * Evaluates every claim of a scenario by exhaustive exploration (checks are cached per
 * fix/variant/params, so claims that share a configuration explore it once). `ref` is the scenario
 * object or a bundled (or already seen) scenario's id; throws UsageError for an unknown id.
 * `opts.timeLimitMs` bounds each check (ms): a check it cuts short is `incomplete`, so a claim
 * that needs a pass does not hold, and one that needs a failure holds only if one was found.
 */
export function evaluateClaims(ref: AnyScenario | string, opts: { readonly timeLimitMs?: number } = {}): ClaimResult[] {
  const sc = lookupScenario(ref);
  const cache = new Map<string, CheckResult>();
  const ctx = {
    check(fix: string, variant: string, params: Record<string, number> = {}, memoryModel?: MemoryModel): CheckResult {
      const key = JSON.stringify([fix, variant, params, memoryModel ?? null]);
      let r = cache.get(key);
      if (!r) {
        r = check(sc, {
          fix,
          variant,
          params,
          mode: "exhaustive",
          ...(memoryModel !== undefined ? { memoryModel } : {}),
          ...(opts.timeLimitMs !== undefined ? { timeLimitMs: opts.timeLimitMs } : {}),
        });
        cache.set(key, r);
      }
      return r;
    },
  };
  return sc.claims.map((c) => {
    const { observed, holds } = c.evaluate(ctx);
    return {
      id: c.id,
      scenario: sc.id,
      source: formatSource(c.source),
      statement: c.statement,
      expected: c.expected,
      observed,
      holds,
    };
  });
}

/**
 * The memory model after `fix/variant` in a result's line: ` [tso]` for any model but sc, and
 * ` [sc]` too when the variant's own model is another one (a `--memory-model sc` check of a tso
 * variant read as the variant's tso: new-user trial 20) or when `always` (the lines of one command
 * that checked several models); else "".
 */
export function modelTag(r: { readonly scenario: string; readonly variant: string; readonly memoryModel: MemoryModel }, always = false): string {
  if (always || r.memoryModel !== "sc") return ` [${r.memoryModel}]`;
  let own: MemoryModel = "sc";
  try {
    own = lookupScenario(r.scenario).variants.find((v) => v.id === r.variant)?.memoryModel ?? "sc";
  } catch {
    // (A result of a scenario this process never saw: its variant's model is unknown.)
  }
  return own === "sc" ? "" : " [sc]";
}

/** One line for a claim's `observed`: `fix/variant [model]: verdict (n violating of m executions explored: findings)` (the reduced search's executions, not every interleaving; the model as {@link modelTag} gives it). */
export function summarizeCheck(r: CheckResult): string {
  return (
    `${r.fix}/${r.variant}${modelTag(r)}: ${r.verdict} (${r.violations} violating of ${r.executions} executions explored` +
    (r.violations > 0 ? `: ${Object.keys(r.findings).join("; ")}` : "") +
    ")"
  );
}

/** True when some finding key of the check matches `re`. */
export function hasFinding(r: CheckResult, re: RegExp): boolean {
  return Object.keys(r.findings).some((k) => re.test(k));
}
