'use strict';
// Flows (docs/sensor-node.md): HTTP endpoints of Express 4 and 5, Fastify 4 and 5 and Koa 2 and 3 (with
// @koa/router), and BullMQ workers' jobs, recorded with no change to the application. The
// frameworks' own modules are patched as they load (CommonJS, through lib/cjs.js's compile
// wrapper, which also compiles a CommonJS package imported from an ES module).
//
// Each request or job gets a record, kept on the framework's request object: the flow once the
// route template is known, its start and the exception that escaped its handler. Every call of
// the framework into the application (a middleware, a route handler, a job's processor) runs in
// the record's flow (runtime.enterFlow/leaveFlow around it), which the enter hook puts on the
// edges of every call that follows; callbacks and resumed async functions find their flow
// without an async hook (lib/runtime.js).
const fs = require('node:fs');
const path = require('node:path');
const { performance } = require('node:perf_hooks');
const stack = require('./stack');
const sourcepatch = require('./sourcepatch');
const { disguise } = require('./fntext');

const kRec = Symbol('hud.flow');
const kMount = Symbol('hud.mount');
const kLast = Symbol('hud.route');
let native = null;
let runtime = null;

const endpoints = new Map();
const queues = new Map();

function endpoint(method, route) {
  const k = `${method} ${route}`;
  let idx = endpoints.get(k);
  if (idx === undefined) endpoints.set(k, (idx = native.flowEndpoint(method, route)));
  return idx;
}

function queueFlow(task, queue) {
  const k = `${task}\0${queue}`;
  let idx = queues.get(k);
  if (idx === undefined) queues.set(k, (idx = native.flowQueue(task, queue)));
  return idx;
}

// Per flow, its running requests or jobs (a list through their records): an exception that
// escaped a flow (an unhandled rejection, an uncaught exception) is charged to one of them that
// has none yet (lib/runtime.js knows the flow the exception went through, not which request).
const running = [];
function link(rec) {
  if (rec.linked === rec.flow) return;
  unlink(rec);
  const head = running[rec.flow];
  rec.ln = head === undefined ? null : head;
  if (head) head.lp = rec;
  running[rec.flow] = rec;
  rec.linked = rec.flow;
}
function unlink(rec) {
  if (rec.linked === 0) return;
  if (rec.lp !== null) rec.lp.ln = rec.ln;
  else running[rec.linked] = rec.ln;
  if (rec.ln !== null) rec.ln.lp = rec.lp;
  rec.lp = rec.ln = null;
  rec.linked = 0;
}
// The oldest running one without an exception yet (the list is newest first): exceptions are
// reported in the order they escaped, and requests of one route mostly fail in the order they
// started; charged to the newest, an earlier request's exception could take a later request's
// place, and that later request's own exception be lost when the earlier one had ended by then.
function runningIn(flow) {
  let free, any;
  for (let r = running[flow]; r; r = r.ln) {
    if (r.done) continue;
    if (r.escaped === undefined) free = r;
    else if (any === undefined) any = r;
  }
  return free !== undefined ? free : any;
}

// One request or job.
class Rec {
  constructor(method) {
    this.flow = 0;
    this.method = method;
    this.base = ''; // Express: the mount paths (templates) of the routers entered
    this.err = undefined;
    this.escaped = undefined; // an unhandled rejection or uncaught exception while it ran
    this.done = false;
    this.lp = null; // the running records of its flow (link)
    this.ln = null;
    this.linked = 0;
    this.top = false; // Express: its outermost router has been entered
    this.t0 = performance.now();
  }
}

// The route template is known: what runs next belongs to its flow.
function routed(rec, route) {
  rec.flow = endpoint(rec.method, route);
  link(rec);
  runtime.setFlow(rec.flow);
}

// FN(...ARGS) called by the framework for REC's request, in its flow, by a wrapper of ours. Two
// frames of the sensor's stand on the stack meanwhile (the wrapper's and this one), which
// error.stack leaves out: as many more frames are captured (lib/stack.js).
function inFlow(rec, fn, self, a, b, c) {
  const limit = stack.raiseOwn(2);
  const state = runtime.enterFlow(rec.flow);
  try {
    return fn.call(self, a, b, c);
  } finally {
    runtime.leaveFlow(state);
    stack.lowerOwn(limit);
  }
}

// FN(...ARGS) called by a wrapper of ours with nothing to add (no request of ours): the same two
// frames.
function passOn(fn, self, ...args) {
  const limit = stack.raiseOwn(2);
  try {
    return fn.apply(self, args);
  } finally {
    stack.lowerOwn(limit);
  }
}

function typeName(err) {
  if (err === null || err === undefined) return 'undefined';
  try {
    const c = err.constructor;
    return (c && typeof c.name === 'string' && c.name) || typeof err;
  } catch {
    return typeof err; // a proxy or an accessor that throws
  }
}

// Records a finished request: an exception counts when the response is a server error (as
// the Python sensor: an exception that escaped the handler answers 500), or when one escaped
// the flow while it ran (an unhandled rejection, an uncaught exception), whatever the answer.
function finish(rec, status) {
  if (rec.done) return;
  rec.done = true;
  unlink(rec);
  if (lastRec === rec) {
    lastReq = null; // the request is not kept alive
    lastRec = undefined;
  }
  if (!rec.flow) rec.flow = endpoint(rec.method, '<unmatched>');
  record(rec, status | 0, rec.err !== undefined && status >= 500 ? rec.err : rec.escaped);
}

// REC's request or job ended now with STATUS (0 for a job) and ERR (undefined: none) as its
// exception. Without one into the ring the addon drains (runtime.flowDone): no call into the
// addon.
function record(rec, status, err) {
  const ns = Math.max(0, Math.round((performance.now() - rec.t0) * 1e6));
  if (err === undefined) runtime.flowDone(rec.flow, status, ns);
  else native.flowAdd(rec.flow, status, ns, typeName(err));
}

// A response emits 'close' once, after 'finish' or when the connection closed first. A
// listener of its own per response, which holds the record: reading a record back from a
// request or response once Express gave it a map of its own (Object.setPrototypeOf, then more
// properties) is a megamorphic lookup in memory that no earlier request touched
// (docs/architecture.md, "Maps of their own"). The status is read with a keyed load, which
// V8's builtin looks up without a runtime call.
const RES_STATUS = 'statusCode';
function onEnd(res, rec) {
  res.on('close', function hudClose() {
    finish(rec, this[RES_STATUS]);
  });
}

// The request whose record was read last, and that record: the calls Express makes for one
// request mostly come in a row (its layers, routers and route), so each compares the request
// with the last one instead of looking the record up on it (the lookup above).
let lastReq = null;
let lastRec;
function recOf(req) {
  if (req === lastReq) return lastRec;
  const rec = req[kRec];
  if (rec !== undefined) {
    lastReq = req;
    lastRec = rec;
  }
  return rec;
}

// ---- Express 4 and 5 (the same shape: application, router, layer, route) ----
// INSIDE: the file's functions have our statements (lib/sourcepatch.js, `inside` below), so
// only what they do not cover is wrapped.
// app.handle: the request's record, or undefined for a mounted application's request (its
// record is there already).
function startRequest(req, res) {
  if (recOf(req) !== undefined) return undefined;
  const rec = (req[kRec] = new Rec(req.method));
  lastReq = req;
  lastRec = rec;
  onEnd(res, rec);
  return rec;
}

function expressApplication(app, inside) {
  if (inside) return;
  const handle = app.handle;
  app.handle = disguise(function hudHandle(req, res, callback) {
    const rec = startRequest(req, res);
    if (rec === undefined) return passOn(handle, this, req, res, callback);
    return inFlow(rec, handle, this, req, res, callback);
  }, handle);
}

// An error a layer passed to next: the request's exception (until handled). Seen where Express
// takes it on: each later layer's handle_error (below) and the router's final callback, so that
// the layers get Express's own next (a closure of ours as every middleware's next cost 4-7% of
// the app's CPU per request at full speed: docs/architecture.md, "What it was").
function keepErr(rec, err) {
  if (err && err !== 'route' && err !== 'router') rec.err = err;
}

// The request's outermost router's final callback OUT, which keeps the error it is given; OUT
// itself for an inner router. The outermost router calls it once, when it is done without an
// answer. (An inner router's is the next of a layer of the router around it, which takes an
// error passed on to its later layers' handle_error or its own final callback.)
function finalOf(rec, out) {
  if (rec === undefined || rec.top || typeof out !== 'function') return out;
  rec.top = true;
  return (err) => {
    keepErr(rec, err);
    return out(err);
  };
}

function expressRouter(proto, inside) {
  const handle = proto.handle;
  if (!inside)
    proto.handle = disguise(function hudRouterHandle(req, res, out) {
      return handle.call(this, req, res, finalOf(recOf(req), out));
    }, handle);
  const use = proto.use;
  proto.use = disguise(function hudUse(...args) {
    const n = this.stack.length;
    const r = use.apply(this, args);
    // As express: a path first (a string, a pattern, an array of them), else functions at '/'.
    const first = Array.isArray(args[0]) ? args[0].flat(Infinity)[0] : args[0];
    const p = typeof first === 'function' || first === undefined ? ''
      : typeof args[0] === 'string' ? args[0].replace(/\/+$/, '') : String(args[0]);
    for (let i = n; i < this.stack.length; i++) if (p) this.stack[i][kMount] = p;
    return r;
  }, use);
}

// A mount layer (MOUNT: its path template) adds it to the request's base while its router or
// application runs, which calls the next returned here once, when it is done.
function mountNext(rec, mount, next) {
  const prev = rec.base;
  rec.base = prev + mount;
  return (err) => {
    rec.base = prev;
    keepErr(rec, err);
    return next(err);
  };
}

function expressLayer(Layer, inside) {
  const key = typeof Layer.prototype.handleRequest === 'function' ? 'handleRequest' : 'handle_request'; // 5 : 4
  const handleRequest = Layer.prototype[key];
  // Every layer runs its handler in the request's flow; a mount layer adds its path template.
  if (!inside)
    Layer.prototype[key] = disguise(function hudHandleRequest(req, res, next) {
      const rec = recOf(req);
      if (!rec) return passOn(handleRequest, this, req, res, next);
      const mount = this[kMount];
      // In the request's flow, inline rather than through inFlow(): layers nest as deep as the
      // middleware stack, and this is then one frame of ours per layer, not two.
      const limit = stack.raiseOwn();
      const state = runtime.enterFlow(rec.flow);
      try {
        return handleRequest.call(this, req, res, mount === undefined ? next : mountNext(rec, mount, next));
      } finally {
        runtime.leaveFlow(state);
        stack.lowerOwn(limit);
      }
    }, handleRequest);
  // An error handler (called also when a rejected promise passed its error on, Express 5): the
  // error passed on to next is the request's exception until handled. An error path, wrapped
  // also when the file has our statements.
  const ekey = typeof Layer.prototype.handleError === 'function' ? 'handleError' : 'handle_error';
  const handleError = Layer.prototype[ekey];
  Layer.prototype[ekey] = disguise(function hudHandleError(err, req, res, next) {
    const rec = req && recOf(req);
    if (!rec) return passOn(handleError, this, err, req, res, next);
    keepErr(rec, err);
    const limit = stack.raiseOwn();
    const state = runtime.enterFlow(rec.flow);
    try {
      return handleError.call(this, err, req, res, next);
    } finally {
      runtime.leaveFlow(state);
      stack.lowerOwn(limit);
    }
  }, handleError);
}

// ROUTE matched REC's request: what follows runs in the flow of (method, mount paths + route
// path). The flow of the route's last request when the method and mount paths are the same (most
// requests): no template string is built and hashed per request.
function routeFlow(route, rec) {
  const last = route[kLast];
  if (last !== undefined && last.method === rec.method && last.base === rec.base) {
    rec.flow = last.flow;
    link(rec);
    runtime.setFlow(rec.flow);
  } else {
    const p = typeof route.path === 'string' ? route.path : String(route.path);
    routed(rec, rec.base && p === '/' ? rec.base : rec.base + p);
    route[kLast] = { method: rec.method, base: rec.base, flow: rec.flow };
  }
}

function expressRoute(Route, inside) {
  if (inside) return;
  const dispatch = Route.prototype.dispatch;
  // Its handlers run in the request's flow even when called from a body parser's stream event.
  Route.prototype.dispatch = disguise(function hudDispatch(req, res, done) {
    const rec = recOf(req);
    if (!rec) return passOn(dispatch, this, req, res, done);
    routeFlow(this, rec);
    return inFlow(rec, dispatch, this, req, res, done);
  }, dispatch);
}

// What the statements put into Express's per-request functions call (`__hud.fw`): the work of
// the wrappers above, without their frames (lib/sourcepatch.js).
const inside = {
  km: kMount,
  // app.handle: the request's record (a mounted application's request has it already).
  request: startRequest,
  // A router's handle: its final callback.
  final: (req, out) => finalOf(recOf(req), out),
  // route.dispatch: the route matched.
  routed(route, req) {
    const rec = recOf(req);
    if (rec !== undefined) routeFlow(route, rec);
  },
  // A layer calls its handler: in the request's flow until it returns (leave(state)).
  layer(req) {
    const rec = recOf(req);
    return rec === undefined ? -1 : runtime.enterFlow(rec.flow);
  },
  leave(state) {
    if (state !== -1) runtime.leaveFlow(state);
  },
  mounted(layer, req, next) {
    const rec = recOf(req);
    return rec === undefined ? next : mountNext(rec, layer[kMount], next);
  },
};
const LAYER = ['const __hud_s=__hud.fw.layer(req);try{if(this[__hud.fw.km]!==undefined)next=__hud.fw.mounted(this,req,next);',
  '}finally{__hud.fw.leave(__hud_s)}'];
// The statements by package and file: [a function's first line, at its start, at its end].
const sources = new Map([
  ['express lib/application.js', [['app.handle = function handle(req, res, callback) {', '__hud.fw.request(req,res);']]],
  ['express lib/router/index.js', [['proto.handle = function handle(req, res, out) {', 'out=__hud.fw.final(req,out);']]],
  ['express lib/router/route.js', [['Route.prototype.dispatch = function dispatch(req, res, done) {', '__hud.fw.routed(this,req);']]],
  ['express lib/router/layer.js', [['Layer.prototype.handle_request = function handle(req, res, next) {', ...LAYER]]],
  ['router index.js', [['Router.prototype.handle = function handle (req, res, callback) {', 'callback=__hud.fw.final(req,callback);']]],
  ['router lib/route.js', [['Route.prototype.dispatch = function dispatch (req, res, done) {', '__hud.fw.routed(this,req);']]],
  ['router lib/layer.js', [['Layer.prototype.handleRequest = function handleRequest (req, res, next) {', ...LAYER]]],
]);

// ---- Fastify 4 and 5 ----
// The route is known at onRequest; the handler runs later (after the body was read), each
// route's handler wrapped at registration (onRoute) to run in its request's flow, and hooks of
// ours first in the later stages start them in it.
function fastifyHandler(handler) {
  return disguise(function hudHandler(request, reply) {
    const rec = request && request[kRec];
    if (!rec) return passOn(handler, this, request, reply);
    return inFlow(rec, handler, this, request, reply);
  }, handler);
}

// A hook of ours in a Fastify hook chain: the chain's frames that called it (hookIterator and
// next; next alone in onSend's) are on the stack only because it is in the chain. error.stack
// leaves them out with it (lib/stack.js), and as many more frames are captured.
const FASTIFY_HOOKS = /[\\/]fastify[^\\/]*[\\/]lib[\\/]hooks\.js$/;
stack.hideBelow('hudFastifyHook', (trace, k) => {
  let n = 0;
  while (k + n < trace.length && FASTIFY_HOOKS.test(trace[k + n].getFileName() || ''))
    if (trace[k + n++].getFunctionName() === 'next') break;
  return n;
});
function fastifyHook(chainFrames, body) {
  const k = chainFrames + 1; // and BODY's frame
  // As many parameters as the hook's kind has (Fastify reads a hook's length).
  if (body.length === 4)
    return function hudFastifyHook(request, reply, a, done) {
      const limit = stack.raiseOwn(k);
      try {
        return body(request, reply, a, done);
      } finally {
        stack.lowerOwn(limit);
      }
    };
  return function hudFastifyHook(request, reply, done) {
    const limit = stack.raiseOwn(k);
    try {
      return body(request, reply, done);
    } finally {
      stack.lowerOwn(limit);
    }
  };
}

function fastifyHooks(app) {
  app.addHook('onRoute', (opts) => {
    if (typeof opts.handler === 'function') opts.handler = fastifyHandler(opts.handler);
  });
  app.addHook('onRequest', fastifyHook(2, (request, reply, done) => {
    const rec = (request[kRec] = new Rec(request.method));
    const url = request.routeOptions ? request.routeOptions.url : request.routerPath;
    if (typeof url === 'string' && !request.is404) routed(rec, url);
    inFlow(rec, done);
  }));
  // The stages that run after the body was read start in the request's flow: their first hooks
  // (the application's own, called by done) and what follows synchronously are in it.
  for (const stage of ['preValidation', 'preHandler']) {
    app.addHook(stage, fastifyHook(2, (request, reply, done) => {
      const rec = request[kRec];
      if (rec) inFlow(rec, done);
      else passOn(done);
    }));
  }
  app.addHook('onSend', fastifyHook(1, (request, reply, payload, done) => {
    const rec = request[kRec];
    if (rec) inFlow(rec, done, undefined, null, payload);
    else passOn(done, undefined, null, payload);
  }));
  app.addHook('onError', fastifyHook(2, (request, reply, error, done) => {
    if (request[kRec]) request[kRec].err = error;
    passOn(done);
  }));
  app.addHook('onResponse', fastifyHook(2, (request, reply, done) => {
    if (request[kRec]) finish(request[kRec], reply.statusCode);
    passOn(done);
  }));
}

function fastifyModule(mod) {
  const orig = mod.exports;
  if (typeof orig !== 'function') return;
  function fastify(...args) {
    const app = orig.apply(this, args);
    try {
      fastifyHooks(app);
    } catch {
      // a framework we do not know: the application runs without flows
    }
    return app;
  }
  Object.assign(fastify, orig);
  fastify.fastify = fastify;
  fastify.default = fastify;
  mod.exports = fastify;
}

// ---- Koa 2 and 3 (@koa/router sets ctx._matchedRoute before the route's middleware runs) ----
function koaApplication(Application) {
  const handleRequest = Application.prototype.handleRequest;
  Application.prototype.handleRequest = disguise(function hudHandleRequest(ctx, fnMiddleware) {
    const rec = (ctx[kRec] = new Rec(ctx.method));
    let matched;
    Object.defineProperty(ctx, '_matchedRoute', {
      configurable: true,
      enumerable: true,
      get: () => matched,
      set: (v) => {
        matched = v;
        if (v !== undefined) routed(rec, String(v));
      },
    });
    const onerror = ctx.onerror;
    // Made per request: not disguised (that costs a WeakMap entry and two property definitions).
    ctx.onerror = function hudOnerror(err) {
      if (err !== null && err !== undefined) rec.err = err;
      return passOn(onerror, this, err);
    };
    onEnd(ctx.res, rec);
    return inFlow(rec, handleRequest, this, ctx, fnMiddleware);
  }, handleRequest);
}

// koa-compose (Koa's middleware and @koa/router's route chains): each middleware runs in its
// request's flow, the route's once the router set it.
const scopedMw = new WeakMap();
function koaScoped(fn) {
  if (typeof fn !== 'function') return fn;
  let w = scopedMw.get(fn);
  if (w === undefined) {
    w = disguise(function hudMiddleware(ctx, next) {
      const rec = ctx !== null && typeof ctx === 'object' ? ctx[kRec] : undefined;
      if (rec === undefined) return passOn(fn, this, ctx, next);
      return inFlow(rec, fn, this, ctx, next);
    }, fn);
    scopedMw.set(fn, w);
  }
  return w;
}

function koaCompose(mod) {
  const compose = mod.exports;
  if (typeof compose !== 'function') return;
  function hudCompose(middleware) {
    return compose.call(this, Array.isArray(middleware) ? middleware.map(koaScoped) : middleware);
  }
  Object.assign(hudCompose, compose);
  mod.exports = disguise(hudCompose, compose);
}

// ---- BullMQ: a Worker's processor runs each job as a queue flow (task = job name) ----
function bullmqWorker(Worker) {
  const call = Worker.prototype.callProcessJob;
  if (typeof call !== 'function') return;
  Worker.prototype.callProcessJob = disguise(function hudCallProcessJob(job, ...rest) {
    const rec = new Rec('');
    rec.flow = queueFlow(String(job && job.name), String(this.name));
    link(rec);
    const end = (err) => {
      if (rec.done) return;
      rec.done = true;
      unlink(rec);
      record(rec, 0, err === undefined ? rec.escaped : err);
    };
    let p;
    const limit = stack.raiseOwn();
    const state = runtime.enterFlow(rec.flow);
    try {
      p = call.call(this, job, ...rest); // (job, token) in 5, (job, token, signal) in 6
    } catch (err) {
      end(err);
      throw err;
    } finally {
      runtime.leaveFlow(state);
      stack.lowerOwn(limit);
    }
    return Promise.resolve(p).then(
      (v) => {
        end(undefined);
        return v;
      },
      (err) => {
        end(err);
        throw err;
      },
    );
  }, call);
}

// A sandboxed processor (a file BullMQ runs in a child process or a worker thread): the parent's
// callProcessJob above counts the job; here, in the child, the processor's calls run in the same
// queue flow (flows are named by task and queue, so both sides' records meet on the server).
function bullmqChild(ChildProcessor) {
  const start = ChildProcessor && ChildProcessor.prototype.start;
  if (typeof start !== 'function') return;
  ChildProcessor.prototype.start = disguise(function hudStart(jobJson, ...rest) {
    const job = jobJson !== null && typeof jobJson === 'object' ? jobJson : {};
    const limit = stack.raiseOwn();
    const state = runtime.enterFlow(queueFlow(String(job.name), String(job.queueName)));
    try {
      return start.call(this, jobJson, ...rest); // runs the processor up to its first await
    } finally {
      runtime.leaveFlow(state);
      stack.lowerOwn(limit);
    }
  }, start);
}

// ---- exceptions that escape the flow: unhandled rejections, uncaught exceptions ----
// Node emits 'unhandledRejection' through process.emit in every --unhandled-rejections mode but
// strict; a listener of ours would change the default (no listener: the process ends), so
// process.emit is wrapped instead, returning what it returns, and the application's listeners
// run in the flow the exception went through. 'uncaughtExceptionMonitor' (observing only)
// covers uncaught exceptions and strict mode; when no 'uncaughtException' listener keeps the
// process alive, the flow's running request or job is recorded as failed now (it will never
// end) and the exit hook sends the batch.
function escapedFlow(err, fatal) {
  try {
    native.flowEscaped(err); // its exception path: escaped, not caught by the caller
    const flow = runtime.flowOfError(err);
    const rec = flow !== 0 ? runningIn(flow) : undefined;
    if (rec === undefined) return;
    if (rec.escaped === undefined) rec.escaped = err;
    if (!fatal) return;
    rec.done = true; // found through its flow: it has one
    record(rec, 0, rec.escaped);
  } catch {
    // the application's own handling goes on whatever happens here
  }
}

function watchEscapes() {
  const orig = process.emit;
  // The same name, length and text as EventEmitter's emit. Its frame is below the listeners':
  // error.stack leaves it out, and one more frame is captured meanwhile.
  process.emit = disguise(function emit(event) {
    const escape = event === 'unhandledRejection' || event === 'uncaughtException';
    if (event === 'unhandledRejection') escapedFlow(arguments[1], false); // eslint-disable-line prefer-rest-params
    const flow = escape ? runtime.flowOfError(arguments[1]) : 0; // eslint-disable-line prefer-rest-params
    const limit = stack.raiseOwn();
    const state = flow !== 0 ? runtime.enterFlow(flow) : -1;
    try {
      return orig.apply(this, arguments); // eslint-disable-line prefer-rest-params
    } finally {
      if (state !== -1) runtime.leaveFlow(state);
      stack.lowerOwn(limit);
    }
  }, orig);
  process.on('uncaughtExceptionMonitor', (err) => {
    const fatal = process.listenerCount('uncaughtException') === 0 && !process.hasUncaughtExceptionCaptureCallback();
    escapedFlow(err, fatal);
  });
}

// Which file of which package is patched how: [package name, path inside it ('/' separated),
// patch]. The name is the package's own (its package.json), so that an installed alias
// ("express5": "npm:express@5") is patched too.
const patches = [
  // Express 4 (its router in lib/router/) and 5 (the `router` package, also used on its own)
  ['express', 'lib/application.js', (m, inside) => expressApplication(m.exports, inside)],
  ['express', 'lib/router/index.js', (m, inside) => expressRouter(m.exports, inside)],
  ['express', 'lib/router/layer.js', (m, inside) => expressLayer(m.exports, inside)],
  ['express', 'lib/router/route.js', (m, inside) => expressRoute(m.exports, inside)],
  ['router', 'index.js', (m, inside) => expressRouter(m.exports.prototype, inside)],
  ['router', 'lib/layer.js', (m, inside) => expressLayer(m.exports, inside)],
  ['router', 'lib/route.js', (m, inside) => expressRoute(m.exports, inside)],
  ['fastify', 'fastify.js', fastifyModule],
  ['koa', 'lib/application.js', (m) => koaApplication(m.exports)],
  ['koa-compose', 'index.js', koaCompose],
  ['bullmq', 'dist/cjs/classes/worker.js', (m) => bullmqWorker(m.exports.Worker)],
  ['bullmq', 'dist/cjs/classes/child-processor.js', (m) => bullmqChild(m.exports.ChildProcessor)],
];
const patchedFiles = new Set(patches.map((p) => p[1]));

// The package FILENAME belongs to: [its name, the path inside it], or null when no patch is
// for that path (the package.json is read only then, once per package directory).
const names = new Map();
function packageOf(filename) {
  const sep = path.sep;
  const i = filename.lastIndexOf(`${sep}node_modules${sep}`);
  if (i < 0) return null;
  const parts = filename.slice(i + 14).split(sep);
  const n = parts[0].startsWith('@') ? 2 : 1;
  const rel = parts.slice(n).join('/');
  if (!patchedFiles.has(rel)) return null;
  const root = filename.slice(0, i + 14) + parts.slice(0, n).join(sep);
  let name = names.get(root);
  if (name === undefined) {
    try {
      name = String(JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).name);
    } catch {
      name = '';
    }
    names.set(root, name);
  }
  return [name, rel];
}

let installed = false;

function install() {
  if (installed) return;
  installed = true;
  runtime = require('./runtime');
  native = runtime.native;
  watchEscapes();
  // HUD_FRAMEWORK_SOURCE=0: wrappers only (the tests run both ways). Statements only where the
  // global `__hud` (which they call) has the hooks: not under another copy's older runtime.
  const edit = runtime.setFrameworkHooks(inside) && process.env.HUD_FRAMEWORK_SOURCE !== '0';
  const edited = new Set();
  if (edit) require('./fntext').addStatements([...sources.values()].flat().flatMap(([, before, after]) => [before, after]));
  const cjs = require('./cjs');
  cjs.onSource((content, filename) => {
    if (!edit || !filename.includes('node_modules')) return content;
    const pkg = packageOf(filename);
    const edits = pkg === null ? undefined : sources.get(`${pkg[0]} ${pkg[1]}`);
    const r = edits === undefined ? null : sourcepatch.apply(content, edits, filename);
    if (r === null) return content; // another version than we know: wrapped once it loaded
    stack.register(filename, r.inserts);
    edited.add(filename);
    return r.code;
  });
  cjs.onLoaded((module, filename) => {
    if (!filename.includes('node_modules')) return;
    const pkg = packageOf(filename);
    if (pkg === null) return;
    for (const [name, file, patch] of patches) {
      if (name !== pkg[0] || file !== pkg[1]) continue;
      try {
        patch(module, edited.has(filename));
      } catch {
        // another version than we know: no flows from it, the application is unchanged
      }
      return;
    }
  });
}

module.exports = { install, endpoint };
