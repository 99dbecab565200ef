// The conformance Worker: runs one case (a list of steps) on one fresh SQLite-backed Durable Object
// and answers each step's result as tagged JSON (see codec below; conformance/values.py decodes it).
//
// A step's arguments arrive already converted the way the Python Workers SDK would convert what a
// learner wrote in Python (conformance/sdk_model.py builds them), so this file only executes them.
import { DurableObject } from "cloudflare:workers";

// ---------------------------------------------------------------------------------------------
// Codec: JSON cannot hold undefined, NaN, +-Infinity, -0, BigInt, bytes, Date, Map, Set, so those
// travel as {"$": tag, ...}. A number that is not a safe integer is tagged "float" because Pyodide
// turns exactly the safe integers into Python int and every other number into float.
// ---------------------------------------------------------------------------------------------

// Answers of inner steps (inside a transaction or an alarm handler), already encoded.
class Answers {
  constructor(list) {
    this.list = list;
  }
}

// A time read back, relative to the case's reference time (see relTime).
class RelTime {
  constructor(offset, int) {
    this.offset = offset;
    this.int = int;
  }
}

function encode(v, seen = new Set()) {
  if (v === undefined) return { $: "undefined" };
  if (v instanceof RelTime) return { $: "time", offset: v.offset, int: v.int };
  if (v instanceof Answers) return { $: "answers", list: v.list };
  if (v === null) return null;
  switch (typeof v) {
    case "boolean":
    case "string":
      return v;
    case "number":
      if (Number.isNaN(v)) return { $: "NaN" };
      if (v === Infinity) return { $: "Infinity" };
      if (v === -Infinity) return { $: "-Infinity" };
      if (Object.is(v, -0)) return { $: "-0" };
      if (Number.isSafeInteger(v)) return v;
      return { $: "float", v };
    case "bigint":
      return { $: "bigint", v: v.toString() };
    case "function":
      return { $: "function" };
    case "symbol":
      return { $: "symbol" };
  }
  if (seen.has(v)) return { $: "cycle" };
  seen.add(v);
  try {
    if (Array.isArray(v)) return v.map((x) => encode(x, seen));
    if (v instanceof ArrayBuffer) return { $: "bytes", type: "ArrayBuffer", hex: hex(new Uint8Array(v)) };
    if (ArrayBuffer.isView(v)) {
      return { $: "bytes", type: v.constructor.name, hex: hex(new Uint8Array(v.buffer, v.byteOffset, v.byteLength)) };
    }
    if (v instanceof Date) return { $: "date", v: v.getTime() };
    if (v instanceof Map) return { $: "map", entries: [...v.entries()].map(([k, x]) => [encode(k, seen), encode(x, seen)]) };
    if (v instanceof Set) return { $: "set", values: [...v.values()].map((x) => encode(x, seen)) };
    if (v instanceof Error) return { $: "error", ...describeError(v) };
    const proto = Object.getPrototypeOf(v);
    if (proto === Object.prototype || proto === null) {
      return { $: "object", entries: Object.entries(v).map(([k, x]) => [k, encode(x, seen)]) };
    }
    return { $: "instance", ctor: v.constructor ? v.constructor.name : "?" };
  } finally {
    seen.delete(v);
  }
}

function hex(bytes) {
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function unhex(text) {
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.substr(2 * i, 2), 16);
  return out;
}

// `base` is the case's reference time (ms): {"$": "now", "offset": n} means base + n, so recorded
// times do not depend on when the recording ran.
function decode(v, base) {
  if (v === null || typeof v !== "object") return v;
  if (Array.isArray(v)) return v.map((x) => decode(x, base));
  switch (v.$) {
    case "undefined":
      return undefined;
    case "NaN":
      return NaN;
    case "Infinity":
      return Infinity;
    case "-Infinity":
      return -Infinity;
    case "-0":
      return -0;
    case "float":
      return v.v;
    case "bigint":
      return BigInt(v.v);
    case "bytes": {
      const bytes = unhex(v.hex);
      return v.type === "ArrayBuffer" ? bytes.buffer : bytes;
    }
    case "date":
      return new Date(v.v);
    case "datenow":
      return new Date(base + v.offset);
    case "now":
      return base + v.offset;
    case "map":
      return new Map(v.entries.map(([k, x]) => [decode(k, base), decode(x, base)]));
    case "set":
      return new Set(v.values.map((x) => decode(x, base)));
    case "object":
      return Object.fromEntries(v.entries.map(([k, x]) => [k, decode(x, base)]));
    case "error":
      return makeError(v);
  }
  throw new Error(`conformance worker: unknown tag ${JSON.stringify(v)}`);
}

// What a caller can see of an error: name, message and own properties (stack excluded: it is
// machine-specific and never crosses RPC).
function describeError(e) {
  const props = {};
  for (const k of Object.getOwnPropertyNames(e)) {
    if (k === "stack" || k === "message") continue;
    props[k] = encode(e[k]);
  }
  // workerd's "internal error; reference = <random id>" differs every run: keep only its shape.
  const message = String(e.message).replace(/reference = [0-9a-z]+/, "reference = <id>");
  return { name: String(e.name), message, props };
}

// A Python exception that escapes a Python Durable Object reaches JavaScript as Pyodide's
// PythonError: name "PythonError", message = the formatted traceback, plus a `type` property.
class PythonError extends Error {}
Object.defineProperty(PythonError.prototype, "name", { value: "PythonError", writable: true, configurable: true });

function makeError(spec) {
  const classes = { Error, TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError, PythonError };
  let err;
  if (spec.class in classes) {
    err = new classes[spec.class](spec.message);
  } else {
    // A user-defined subclass of Error, named like the spec says.
    const Custom = { [spec.class]: class extends Error {} }[spec.class];
    Object.defineProperty(Custom.prototype, "name", { value: spec.class, writable: true, configurable: true });
    err = new Custom(spec.message);
  }
  for (const [k, x] of Object.entries(spec.props || {})) err[k] = x;
  return err;
}

function settle(fn) {
  try {
    const r = fn();
    if (r && typeof r.then === "function") {
      return r.then(
        (value) => ({ ok: value }),
        (e) => ({ error: e }),
      );
    }
    return { ok: r };
  } catch (e) {
    return { error: e };
  }
}

function wire(result, step, base) {
  if ("error" in result) {
    const e = result.error;
    if (e instanceof Error || (e && typeof e === "object" && "message" in e)) return { error: describeError(e) };
    return { error: { name: "(thrown value)", message: String(e), props: {} } };
  }
  let value = result.ok;
  if (step.time) value = relTime(value, base);
  return { ok: encode(value) };
}

// A time read back (getAlarm) is answered relative to the case's base time.
function relTime(value, base) {
  if (typeof value === "number") return new RelTime(value - base, Number.isSafeInteger(value));
  return value;
}

// ---------------------------------------------------------------------------------------------
// The object under test.
// ---------------------------------------------------------------------------------------------

export class LabObject extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.base = 0;
    this.alarmPlan = null;
    this.alarmLog = [];
  }

  // One step; `base` is the case's reference time.
  async step(step, base) {
    this.base = base;
    return wire(await settle(() => this.run(step, base, this.ctx.storage)), step, base);
  }

  run(step, base, target) {
    const storage = this.ctx.storage;
    const args = (step.args || []).map((a) => decode(a, base));
    switch (step.op) {
      case "call":
        // storage.<method>(...args), or the same on a transaction object.
        return target[step.method](...args);
      case "kv":
        // The synchronous KV API; list() is a lazy iterator: spread it into [key, value] pairs.
        if (step.method === "list") return [...storage.kv.list(...args)];
        return storage.kv[step.method](...args);
      case "sql":
        return this.sql(step, base);
      case "databaseSize":
        return storage.sql.databaseSize;
      case "transaction":
        return storage.transaction(async (txn) => {
          const inner = [];
          for (const s of step.steps) {
            const r = await settle(() => this.run(s, base, txn));
            inner.push(wire(r, s, base));
            if ("error" in r && s.stop_on_error !== false) break;
          }
          if (step.end === "throw") throw new Error(step.message || "rolled back by the case");
          if (step.end === "rollback") txn.rollback();
          return new Answers(inner);
        });
      case "transactionSync":
        return storage.transactionSync(() => {
          const inner = [];
          for (const s of step.steps) {
            const r = settleSync(() => this.run(s, base, storage));
            inner.push(wire(r, s, base));
          }
          if (step.end === "throw") throw new Error(step.message || "rolled back by the case");
          return new Answers(inner);
        });
      case "alarmPlan":
        // What the alarm handler will do: fail the first `fail` runs, run `steps` each time.
        this.alarmPlan = { fail: step.fail || 0, steps: step.steps || [], runs: 0 };
        this.alarmLog = [];
        return undefined;
      case "alarmLog":
        return this.alarmLog;
    }
    throw new Error(`conformance worker: unknown op ${step.op}`);
  }

  sql(step, base) {
    const sql = this.ctx.storage.sql;
    const bindings = (step.bindings || []).map((a) => decode(a, base));
    const cursor = sql.exec(step.query, ...bindings);
    const out = {};
    switch (step.read || "toArray") {
      case "toArray":
        out.rows = cursor.toArray();
        break;
      case "raw":
        out.rows = cursor.raw().toArray();
        break;
      case "one":
        out.rows = cursor.one();
        break;
      case "iter":
        out.rows = [];
        for (const row of cursor) out.rows.push(row);
        break;
      case "rawiter":
        out.rows = [];
        for (const row of cursor.raw()) out.rows.push(row);
        break;
      case "next": {
        // next() twice, then the rest: the row and raw views share one position.
        out.rows = [cursor.next(), cursor.raw().next(), cursor.toArray()];
        break;
      }
      case "none":
        break;
    }
    out.columnNames = cursor.columnNames;
    out.rowsRead = cursor.rowsRead;
    out.rowsWritten = cursor.rowsWritten;
    return out;
  }

  async alarm(info) {
    const plan = this.alarmPlan || { fail: 0, steps: [], runs: 0 };
    plan.runs += 1;
    const answers = [];
    const entry = { retryCount: info ? info.retryCount : null, isRetry: info ? info.isRetry : null, steps: new Answers(answers) };
    this.alarmLog.push(entry);
    for (const s of plan.steps) {
      answers.push(wire(await settle(() => this.run(s, this.base, this.ctx.storage)), s, this.base));
    }
    if (plan.runs <= plan.fail) throw new Error("alarm handler failed on purpose");
  }

  ctxId() {
    return { name: this.ctx.id.name, hex: /^[0-9a-f]{64}$/.test(this.ctx.id.toString()) };
  }

  // --- RPC targets (called from another object of this class) ---

  async echo(...args) {
    return args;
  }

  async mutate(obj) {
    // The callee changes its copy; the caller's value must stay as it was.
    if (Array.isArray(obj)) obj.push("added by callee");
    else if (obj && typeof obj === "object") obj.added = "by callee";
    return "mutated";
  }

  async fail(spec) {
    throw makeError(spec);
  }

  async rpcStep(step, base) {
    // The caller side of an RPC case: call a second object and report what arrived.
    const other = this.env.LAB.get(this.env.LAB.newUniqueId());
    // "fail" gets the description of the error to throw, not an error.
    const args = step.method === "fail" ? [step.error] : (step.args || []).map((a) => decode(a, base));
    const r = await settle(() => other[step.method](...args));
    if ("error" in r) {
      const e = r.error;
      const d = describeError(e);
      return { error: d };
    }
    if (step.method === "mutate") return { ok: encode({ result: r.ok, callerArg: args[0] }) };
    return { ok: encode(r.ok) };
  }
}

function settleSync(fn) {
  try {
    return { ok: fn() };
  } catch (e) {
    return { error: e };
  }
}

// Another class, only so that an id of a different namespace exists.
export class OtherObject extends DurableObject {}

// ---------------------------------------------------------------------------------------------
// The Worker: POST a case {id, steps}, get back {results: [...]} (one entry per step).
// ---------------------------------------------------------------------------------------------

async function idStep(step, env) {
  const ns = env.LAB;
  const arg = (x) => {
    // Symbolic strings, resolved here and in the Python runner alike.
    if (x && typeof x === "object" && x.$ === "idstring") {
      const source = x.ns === "OTHER" ? env.OTHER : ns;
      const s = source.idFromName(x.name).toString();
      return x.upper ? s.toUpperCase() : s;
    }
    return decode(x, 0);
  };
  const describe = (id) => ({
    hex: /^[0-9a-f]{64}$/.test(id.toString()),
    name: id.name,
    equalsNamed: id.equals(ns.idFromName("alpha")),
    roundTrip: ns.idFromString(id.toString()).equals(id),
  });
  return await settle(async () => {
    const args = (step.args || []).map(arg);
    switch (step.method) {
      case "idFromName":
        return describe(ns.idFromName(...args));
      case "idFromString":
        return describe(ns.idFromString(...args));
      case "newUniqueId": {
        const id = ns.newUniqueId(...args);
        return { ...describe(id), fresh: !id.equals(ns.newUniqueId()) };
      }
      case "sameName":
        return ns.idFromName(args[0]).equals(ns.idFromName(args[1]));
      case "otherNamespace":
        return env.OTHER.idFromName(args[0]).toString() === ns.idFromName(args[0]).toString();
      case "getByNameCtx": {
        const stub = ns.getByName(...args);
        return { stubName: stub.name, inside: await stub.ctxId() };
      }
    }
    throw new Error(`conformance worker: unknown id method ${step.method}`);
  });
}

export default {
  async fetch(request, env) {
    const c = await request.json();
    const base = Date.now();
    const stub = env.LAB.get(env.LAB.newUniqueId());
    const results = [];
    for (const step of c.steps) {
      if (step.op === "wait") {
        await new Promise((resolve) => setTimeout(resolve, step.ms));
        results.push({ ok: encode(undefined) });
      } else if (step.op === "id") {
        const r = await idStep(step, env);
        results.push("error" in r ? { error: describeError(r.error) } : { ok: encode(r.ok) });
      } else if (step.op === "rpc") {
        results.push(await stub.rpcStep(step, base));
      } else {
        try {
          results.push(await stub.step(step, base));
        } catch (e) {
          // The object itself failed (not the operation): report it as the step's error.
          results.push({ error: describeError(e) });
        }
      }
    }
    return Response.json({ results });
  },
};
