// Preloaded into the racelab kernel (node --require, see racelab-kernel): fixes to tslab 1.0.22's
// Jupyter protocol handling, without patching its files. Offered upstream: see the README's notes
// on tslab.
//
// 1. Comm messages. tslab answers comm_info_request but logs every other message it does not
//    handle with console.warn, which lands as a red stderr line in whatever cell is running: the
//    Notebook's widgets extension sends comm_open when the kernel is ready. A kernel without comms
//    may ignore them (Jupyter messaging spec, "Custom Messages"): comm_open, comm_msg and
//    comm_close are dropped silently; any other unknown message is still reported.
// 2. Errors. tslab printed a failing cell's exception or TypeScript diagnostics to stderr and
//    replied `status: "error"` without `ename`, `evalue` and `traceback`, and sent no `error`
//    message, so front ends could not show a formatted error. The executor's own console (not the
//    user's) is wrapped to capture them; a failed execute_request then publishes an `error`
//    message (ename, evalue, a traceback trimmed to the user's cell) and the reply carries the
//    same fields.
// 3. Run on after an error. tslab drops every request that arrives within 200 ms of an error
//    (its answer to "stop on error"); an execute_request with `stop_on_error: false` (nbclient
//    --allow-errors) now keeps the queue.
// 4. history_request is answered (an empty history: tslab keeps none) instead of never.
"use strict";
const Module = require("module");

const warn = console.warn;
const IGNORED = /^unknown msg_type: (comm_(open|msg|close)|history_request)$/;
console.warn = function (...args) {
  if (args.length === 1 && typeof args[0] === "string" && IGNORED.test(args[0])) return;
  return warn.apply(this, args);
};

/** The error of the execution in progress, as the executor reported it. */
let failure = null;

/** A traceback trimmed to the user's cell: frames of tslab, node internals and racelab's dist go. */
function trimmedStack(e) {
  const lines = String(e.stack || `${e.name}: ${e.message}`).split("\n");
  const head = lines[0];
  const frames = lines.slice(1).filter((l) => !/node:internal|[\\/]tslab[\\/]dist[\\/]|\(node:/.test(l));
  return [head, ...frames.slice(0, 12)];
}

function patchExecutor(m) {
  const create = m.createExecutor;
  m.createExecutor = function (rootDir, convs, cons) {
    const wrapped = {
      log: cons.log,
      error(...args) {
        if (args.length === 1 && args[0] instanceof Error) {
          const e = args[0];
          failure = { ename: e.name || "Error", evalue: e.message || String(e), traceback: trimmedStack(e) };
          return;
        }
        if (typeof args[0] === "string" && args[0] === "%s%d:%d - %s") {
          const line = `${args[1]}${args[2]}:${args[3]} - ${args[4]}`;
          if (failure === null || failure.ename !== "TypeScript") failure = { ename: "TypeScript", evalue: line, traceback: [] };
          else failure.evalue += `\n${line}`;
          failure.traceback = failure.evalue.split("\n");
          return;
        }
        return cons.error(...args);
      },
    };
    return create.call(this, rootDir, convs, wrapped);
  };
}

function patchJupyter(m) {
  const handler = m.JupyterHandlerImpl.prototype;
  const handleExecute = handler.handleExecute;
  handler.handleExecute = function (req, writeStream, writeDisplayData) {
    if (!(req && req.stop_on_error === false)) return handleExecute.call(this, req, writeStream, writeDisplayData);
    // This request runs even when the one before it failed (tslab chains each task on the previous
    // one, so a failure cancels all queued behind it), and its own failure does not cancel the
    // requests that follow it (tslab clears the failed chain 200 ms later; here at once). tslab
    // calls add() synchronously, before its first await: the patch covers exactly this request.
    const queue = this.execQueue;
    const add = queue.add;
    const reset = queue.reset;
    queue.add = function (fn) {
      queue.add = add;
      const p = queue.prev.then(fn, fn);
      queue.prev = p.catch(() => undefined);
      return p;
    };
    queue.reset = () => reset.call(queue);
    const result = handleExecute.call(this, req, writeStream, writeDisplayData);
    queue.add = add;
    return result.finally(() => {
      queue.reset = reset;
    });
  };
  // history_request: tslab keeps no history; it now answers with an empty one (front ends wait
  // for the reply). publishStatus("busy") is the first thing tslab does with a parsed message.
  const publish = m.ZmqServer.prototype.publishStatus;
  m.ZmqServer.prototype.publishStatus = function (status, parent) {
    publish.call(this, status, parent);
    if (status === "busy" && parent && parent.header && parent.header.msg_type === "history_request") {
      const r = parent.createReply();
      r.header.msg_type = "history_reply";
      r.content = { status: "ok", history: [] };
      r.signAndSend(this.connInfo.key, this.shell);
    }
  };
  m.ZmqServer.prototype.handleExecute = async function (sock, msg) {
    const reply = msg.createReply();
    reply.header.msg_type = "execute_reply";
    const writeStream = (name, text) => {
      const r = msg.createReply();
      r.header.msg_type = "stream";
      r.content = { name, text };
      r.signAndSend(this.connInfo.key, this.iopub);
    };
    const writeDisplayData = (data, update) => {
      const r = msg.createReply();
      r.header.msg_type = update ? "update_display_data" : "display_data";
      r.content = data;
      r.signAndSend(this.connInfo.key, this.iopub);
    };
    failure = null;
    const content = await this.handler.handleExecute(msg.content, writeStream, writeDisplayData);
    if (content.status === "error") {
      const f = failure || { ename: "Error", evalue: "the cell failed", traceback: [] };
      const err = msg.createReply();
      err.header.msg_type = "error";
      err.content = { ename: f.ename, evalue: f.evalue, traceback: f.traceback.length > 0 ? f.traceback : [`${f.ename}: ${f.evalue}`] };
      err.signAndSend(this.connInfo.key, this.iopub);
      Object.assign(content, err.content);
    }
    failure = null;
    reply.content = content;
    reply.signAndSend(this.connInfo.key, sock);
  };
}

const load = Module._load;
Module._load = function (request, parent, isMain) {
  const m = load.apply(this, arguments);
  if (typeof request === "string" && /(^|[\\/])(executor|jupyter)(\.js)?$/.test(request) && m && !m.__racelabPatched) {
    let file = "";
    try {
      file = Module._resolveFilename(request, parent, isMain);
    } catch {
      return m;
    }
    if (/[\\/]tslab[\\/]dist[\\/]executor\.js$/.test(file)) {
      patchExecutor(m);
      m.__racelabPatched = true;
    } else if (/[\\/]tslab[\\/]dist[\\/]jupyter\.js$/.test(file)) {
      patchJupyter(m);
      m.__racelabPatched = true;
    }
  }
  return m;
};
