/**
 * racelab's public API: what notebooks and other tools import.
 *
 * In a tslab notebook (kernel `racelab`, started in the project root):
 * `import { Session, checkAll, showClaims } from "./dist";`
 */
export * from "./engine/access.js";
export * from "./engine/check.js";
export * from "./engine/define.js";
export * from "./registry.js";
export { selfTracked, holdsValues, untracked, isSelfTracked, Tracker } from "./engine/track.js";
export * from "./engine/claims.js";
export * from "./engine/execution.js";
export * from "./engine/finding.js";
export * from "./engine/memory.js";
export * from "./engine/scenario.js";
export * from "./engine/schedule.js";
export * from "./engine/schedulers.js";
export * from "./engine/site.js";
export * from "./engine/sync.js";
export * from "./engine/task.js";
export * from "./engine/trace.js";
export { countLinearizations } from "./engine/count.js";
export { dfs, type DfsOptions, type DfsStats, type Visit } from "./engine/explore.js";
export { getScenario, scenarios } from "./scenarios/index.js";
export * from "./notebook/display.js";
export * from "./notebook/session.js";
export * from "./notebook/views.js";
export * from "./engine/litmus.js";
export { slotTable, type XaSlotRow } from "./linux/xarray.js";
export { workedExample } from "./scenarios/filemap-folio-split/index.js";
export * from "./linux/index.js";
