/**
 * The racelab kernel as JupyterLab's own client library sees it (issue 12): @jupyterlab/services
 * (REST and the kernel WebSocket, `ws` in Node) drives a session on Debian's Jupyter Notebook
 * server (test/fixtures/jupyter-server.ts: 127.0.0.1, a token, private Jupyter folders, this
 * checkout's kernel spec). Checked: the display messages carry the MIME bundles racelab sends
 * (src/notebook/display.ts: a table as text/html + text/plain + racelab's table JSON; a chart as
 * Vega-Lite JSON, SVG, PNG and text/plain), a failing cell publishes an `error` message with
 * ename, evalue and a traceback (an exception and a TypeScript diagnostic) and replies with the
 * same, the kernel runs on after it, a comm_open is ignored without a word, and history_request
 * is answered. Needs Debian's jupyter-notebook (scripts/setup.sh installs it); a missing one is
 * a failure, not a skip.
 */
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import path from "node:path";
import { test } from "node:test";
import { KernelSpecAPI, KernelManager, ServerConnection, SessionManager, type Kernel, type KernelMessage, type Session } from "@jupyterlab/services";
import WebSocket from "ws";
import { TABLE_MIME, VEGALITE_MIME } from "../src/notebook/display.js";
import { onExit, ROOT, startJupyterServer, type JupyterServer } from "./fixtures/jupyter-server.js";

/** `p`, or a rejection naming `what` after `ms`. */
async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms / 1000} s`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** What one execute_request produced: its iopub messages (but status) and its reply. */
interface Run {
  iopub: KernelMessage.IIOPubMessage[];
  reply: KernelMessage.IExecuteReplyMsg;
}

async function run(kernel: Kernel.IKernelConnection, code: string, stopOnError = false): Promise<Run> {
  const iopub: KernelMessage.IIOPubMessage[] = [];
  const future = kernel.requestExecute({ code, stop_on_error: stopOnError });
  future.onIOPub = (msg) => {
    if (msg.header.msg_type !== "status") iopub.push(msg);
  };
  const reply = await within(future.done, 90_000, `execute_request ${JSON.stringify(code.slice(0, 40))}`);
  return { iopub, reply };
}

const ofType = (r: Run, type: string) => r.iopub.filter((m) => m.header.msg_type === type);
const stderr = (r: Run) => ofType(r, "stream").map((m) => (m.content as KernelMessage.IStreamMsg["content"])).filter((c) => c.name === "stderr").map((c) => c.text);

const TABLE_AND_CHART = String.raw`
import { displayTable, displayChart } from ".";
displayTable([{ fix: "baseline", failures: 6 }, { fix: "recheck-es", failures: 0 }], undefined, "failures per fix");
await displayChart({
  title: "failures per fix",
  data: { values: [{ fix: "baseline", failures: 6 }, { fix: "recheck-es", failures: 0 }] },
  mark: "bar",
  encoding: { x: { field: "fix", type: "nominal" }, y: { field: "failures", type: "quantitative" } },
});
`;

test("over @jupyterlab/services: display MIME bundles, error messages, comm_open ignored, history answered", { timeout: 180_000 }, async (t) => {
  // The session's notebook path is in a folder inside the checkout: the kernel starts there and
  // moves to the project root (kernel/racelab-kernel), where "." is the built racelab.
  const dir = await mkdtemp(path.join(ROOT, "notebooks", ".services-test-"));
  const forget = onExit(() => rmSync(dir, { recursive: true, force: true }));
  let server: JupyterServer | null = null;
  let sessions: SessionManager | null = null;
  let kernels: KernelManager | null = null;
  let session: Session.ISessionConnection | null = null;
  try {
    server = await startJupyterServer(dir);
    const serverSettings = ServerConnection.makeSettings({
      baseUrl: server.url,
      wsUrl: server.url.replace(/^http/, "ws"),
      token: server.token,
      appendToken: true,
      // Node has fetch, Request and Headers; the WebSocket is the ws package's.
      fetch: globalThis.fetch,
      Request: globalThis.Request,
      Headers: globalThis.Headers,
      WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
    });

    // The server offers this checkout's kernel (the spec the helper registered), not a user-wide one.
    const specs = await within(KernelSpecAPI.getSpecs(serverSettings), 30_000, "GET /api/kernelspecs");
    const spec = specs.kernelspecs["racelab"];
    assert.ok(spec, `the server has a racelab kernel spec: ${Object.keys(specs.kernelspecs).join(", ")}`);
    assert.equal(spec.argv[0], path.join(ROOT, "kernel", "racelab-kernel"));
    assert.equal(spec.display_name, "racelab (TypeScript)");

    // Notebook 6 offers no kernel WebSocket subprotocol: the library's first connection fails and it
    // reconnects without one (its console says "Connection lost, reconnecting in 0 seconds").
    kernels = new KernelManager({ serverSettings });
    sessions = new SessionManager({ kernelManager: kernels, serverSettings });
    await within(sessions.ready, 30_000, "session manager");
    const started = Date.now();
    session = await within(sessions.startNew({ path: "probe.ipynb", type: "notebook", name: "probe.ipynb", kernel: { name: "racelab" } }), 60_000, "POST /api/sessions");
    const kernel = session.kernel;
    assert.ok(kernel, "the session has a kernel");
    const info = await within(kernel.info, 90_000, "kernel_info_request");
    assert.equal(info.status, "ok");
    assert.equal(info.language_info.name, "typescript");
    t.diagnostic(`kernel ready in ${((Date.now() - started) / 1000).toFixed(1)} s (protocol ${info.protocol_version})`);

    // A comm_open the kernel has no target for (the Notebook's widgets extension sends one when the
    // kernel is ready); tslab printed "unknown msg_type: comm_open" into the running cell.
    const comm = kernel.createComm("jupyter.widget.version");
    comm.open({});

    // One table and one chart: one display_data message each, with racelab's whole MIME bundle.
    const shown = await run(kernel, TABLE_AND_CHART);
    assert.equal(shown.reply.content.status, "ok", JSON.stringify(shown.reply.content));
    assert.deepEqual(stderr(shown), [], "no stderr in the cell");
    const displays = ofType(shown, "display_data").map((m) => (m.content as KernelMessage.IDisplayDataMsg["content"]).data);
    assert.equal(displays.length, 2, `two display_data messages: ${JSON.stringify(shown.iopub.map((m) => m.header.msg_type))}`);
    const [table, chart] = displays as [Record<string, unknown>, Record<string, unknown>];
    assert.deepEqual(Object.keys(table).sort(), [TABLE_MIME, "text/html", "text/plain"].sort());
    assert.match(String(table["text/html"]), /<table[\s\S]*recheck-es[\s\S]*<\/table>/);
    assert.match(String(table["text/plain"]), /baseline\s+6/);
    assert.deepEqual(Object.keys(chart).sort(), ["application/vnd.vegalite.v5+json", "image/png", "image/svg+xml", "text/plain"].sort());
    const vl = chart[VEGALITE_MIME] as { mark?: unknown; data?: { values?: unknown[] } };
    assert.equal(typeof vl, "object", "the Vega-Lite spec is a JSON object, not a string");
    assert.equal(vl.mark, "bar");
    assert.equal(vl.data?.values?.length, 2);
    assert.match(String(chart["image/svg+xml"]), /^<svg[\s\S]*failures per fix[\s\S]*<\/svg>\s*$/);
    const png = Buffer.from(String(chart["image/png"]), "base64");
    assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], "image/png is a base64 PNG");
    assert.match(String(chart["text/plain"]), /failures per fix/);

    // A failing cell: an `error` message (ename, evalue, traceback), the reply with the same, no stderr copy.
    const thrown = await run(kernel, 'function f() { throw new RangeError("bad count"); }\nf();');
    const errors = ofType(thrown, "error").map((m) => m.content as KernelMessage.IErrorMsg["content"]);
    assert.equal(errors.length, 1, `one error message: ${JSON.stringify(thrown.iopub.map((m) => [m.header.msg_type, m.content]))}`);
    assert.equal(errors[0]!.ename, "RangeError");
    assert.equal(errors[0]!.evalue, "bad count");
    assert.ok(Array.isArray(errors[0]!.traceback) && errors[0]!.traceback.some((l) => /RangeError: bad count/.test(l)), JSON.stringify(errors[0]!.traceback));
    assert.deepEqual(stderr(thrown), [], "the error is not printed to stderr as well");
    const reply = thrown.reply.content as KernelMessage.IReplyErrorContent;
    assert.equal(reply.status, "error");
    assert.equal(reply.ename, "RangeError");
    assert.equal(reply.evalue, "bad count");

    // A TypeScript diagnostic fails the cell the same way.
    const diagnostic = await run(kernel, 'const x: number = "a";');
    const diag = ofType(diagnostic, "error").map((m) => m.content as KernelMessage.IErrorMsg["content"]);
    assert.equal(diag.length, 1, JSON.stringify(diagnostic.iopub.map((m) => [m.header.msg_type, m.content])));
    assert.equal(diag[0]!.ename, "TypeScript");
    assert.match(diag[0]!.evalue, /Type 'string' is not assignable to type 'number'/);
    assert.equal(diagnostic.reply.content.status, "error");

    // The kernel runs on after a failure.
    const after = await run(kernel, 'console.log("ran on after the failure");');
    assert.equal(after.reply.content.status, "ok");
    const stdout = ofType(after, "stream").map((m) => m.content as KernelMessage.IStreamMsg["content"]).filter((c) => c.name === "stdout").map((c) => c.text);
    assert.deepEqual(stdout, ["ran on after the failure\n"]);

    // history_request gets its reply (JupyterLab's console asks for it).
    const history = await within(kernel.requestHistory({ hist_access_type: "tail", n: 10, output: false, raw: true }), 30_000, "history_request");
    assert.equal(history.content.status, "ok");
    assert.deepEqual((history.content as { history: unknown[] }).history, []);

    assert.doesNotMatch(server.log(), /unknown msg_type/, "the kernel understood every message it was sent");
  } finally {
    if (session !== null) await within(session.shutdown(), 20_000, "session shutdown").catch(() => undefined);
    sessions?.dispose();
    kernels?.dispose();
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
    forget();
  }
});
