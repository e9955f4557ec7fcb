// Preloaded into the racelab kernel (node --require, see racelab-kernel). tslab 1.0.22 answers
// comm_info_request but logs every other message it does not handle, such as the comm_open that
// the Notebook's widgets extension sends when the kernel is ready, with console.warn, which lands
// as a red stderr line in whatever cell is running. A kernel without comms may ignore comm
// messages (Jupyter messaging spec, "Custom Messages"): these three are dropped silently; any other
// unknown message is still reported. Offered upstream: see the README's notes on tslab.
"use strict";
const warn = console.warn;
const IGNORED = /^unknown msg_type: comm_(open|msg|close)$/;
console.warn = function (...args) {
  if (args.length === 1 && typeof args[0] === "string" && IGNORED.test(args[0])) return;
  return warn.apply(this, args);
};
