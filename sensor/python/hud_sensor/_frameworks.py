"""Flows: HTTP endpoints (Flask, Starlette/FastAPI, Django under WSGI and ASGI) and queue consumers (Celery).

Each integration finds the route *template* once routing is done, enters the flow (a context
variable read by the hot path, so that asyncio tasks and threads each see their own flow), and
records method, status and duration when the request ends. Integrations are installed when the
framework is imported (or right away if it already is); none of them changes what the framework
returns or raises.
"""

import sys

import _hud_sensor as _native

_endpoint_cache = {}
_queue_cache = {}


def endpoint_flow(method, route):
    key = (method, route)
    idx = _endpoint_cache.get(key)
    if idx is None:
        idx = _endpoint_cache[key] = _native.flow_endpoint(method, route)
    return idx


def queue_flow(task, queue=None):
    key = (task, queue)
    idx = _queue_cache.get(key)
    if idx is None:
        idx = _queue_cache[key] = _native.flow_queue(task, queue)
    return idx


# ---- Flask -------------------------------------------------------------------------------------


def _install_flask(flask):
    app_cls = flask.Flask
    if getattr(app_cls, "_hud_patched", False):
        return
    orig = app_cls.full_dispatch_request
    # Flask >= 2.2 keeps the request context in a ContextVar: the native wrapper reads the route
    # from it and enters, times and records the flow with no Python code around the request.
    cv = getattr(sys.modules.get("flask.globals"), "_cv_request", None)
    if cv is not None:
        app_cls.full_dispatch_request = _native.flask_dispatch(orig, cv)
        app_cls._hud_patched = True
        return
    request = flask.request

    def full_dispatch_request(self):
        # Routing already happened (RequestContext.push): the rule is the template.
        rule = request.url_rule
        route = rule.rule if rule is not None else "<unmatched>"
        tok = _native.flow_enter(endpoint_flow(request.method, route))
        try:
            rv = orig(self)
        except BaseException as e:
            _native.flow_leave(tok, 500, e)
            raise
        _native.flow_leave(tok, getattr(rv, "status_code", 200), None)
        return rv

    app_cls.full_dispatch_request = full_dispatch_request
    app_cls._hud_patched = True


# ---- Starlette / FastAPI (ASGI) ----------------------------------------------------------------


def _install_starlette(routing):
    route_cls = routing.Route
    if getattr(route_cls, "_hud_patched", False):
        return
    orig = route_cls.handle

    async def handle(self, scope, receive, send):
        if scope.get("type") != "http":
            return await orig(self, scope, receive, send)
        idx = endpoint_flow(scope.get("method", "GET"), self.path)
        status = [500]

        async def send_status(message):
            if message.get("type") == "http.response.start":
                status[0] = message.get("status", 200)
            await send(message)

        tok = _native.flow_enter(idx)
        try:
            await orig(self, scope, receive, send_status)
        except BaseException as e:
            # HTTPException (and the like) become responses in an outer middleware.
            code = getattr(e, "status_code", None)
            if isinstance(code, int) and 100 <= code < 500:
                _native.flow_leave(tok, code, None)
            else:
                _native.flow_leave(tok, 500, e)
            raise
        _native.flow_leave(tok, status[0], None)

    route_cls.handle = handle
    route_cls._hud_patched = True


# ---- Django --------------------------------------------------------------------------------------


def _django_route(match):
    route = getattr(match, "route", None)
    if route:
        return "/" + route.lstrip("^").rstrip("$") if not route.startswith("/") else route
    return getattr(match, "view_name", None) or "<unmatched>"


def _install_django(base):
    handler_cls = base.BaseHandler
    if getattr(handler_cls, "_hud_patched", False):
        return
    orig_resolve = handler_cls.resolve_request
    orig_get = handler_cls.get_response

    def resolve_request(self, request):
        match = orig_resolve(self, request)
        # Enter the flow as soon as the route is known: the view and everything below run in it.
        tok = getattr(request, "_hud_flow", None)
        if tok is not None and not tok.idx:
            _native.flow_set(tok, endpoint_flow(request.method, _django_route(match)))
        return match

    def done(tok, request, response):
        idx = tok.idx
        if not idx:  # never routed (a middleware answered): the route known now, if any
            match = getattr(request, "resolver_match", None)
            idx = endpoint_flow(request.method, _django_route(match) if match else "<unmatched>")
        _native.flow_leave(tok, getattr(response, "status_code", 200), None, idx)

    def get_response(self, request):
        # The clock starts here; the flow is entered once routing is done (flow_set above).
        tok = request._hud_flow = _native.flow_enter(0)
        try:
            response = orig_get(self, request)
        except BaseException as e:
            _native.flow_leave(tok, 500, e)
            raise
        done(tok, request, response)
        return response

    # ASGI (async views): the same around get_response_async; routing and the view run in the
    # request's task, so the flow set by resolve_request reaches everything the view awaits.
    orig_get_async = getattr(handler_cls, "get_response_async", None)

    async def get_response_async(self, request):
        tok = request._hud_flow = _native.flow_enter(0)
        try:
            response = await orig_get_async(self, request)
        except BaseException as e:
            _native.flow_leave(tok, 500, e)
            raise
        done(tok, request, response)
        return response

    handler_cls.resolve_request = resolve_request
    handler_cls.get_response = get_response
    if orig_get_async is not None:
        handler_cls.get_response_async = get_response_async
    handler_cls._hud_patched = True


# ---- Celery --------------------------------------------------------------------------------------


def _install_celery(signals):
    if getattr(signals, "_hud_patched", False):
        return
    running = {}

    def prerun(task_id=None, task=None, **kw):
        queue = None
        try:
            info = task.request.delivery_info or {}
            queue = info.get("routing_key") or info.get("exchange") or None
        except Exception:
            pass
        running[task_id] = (_native.flow_enter(queue_flow(task.name, queue)), [None])

    def failure(task_id=None, exception=None, **kw):
        st = running.get(task_id)
        if st is not None:
            st[1][0] = exception if exception is not None else RuntimeError("task failed")

    def postrun(task_id=None, task=None, state=None, **kw):
        st = running.pop(task_id, None)
        if st is not None:  # the flow is reset (unless set in another context) and recorded
            _native.flow_leave(st[0], 0, st[1][0])

    signals.task_prerun.connect(prerun, weak=False)
    signals.task_failure.connect(failure, weak=False)
    signals.task_postrun.connect(postrun, weak=False)
    signals._hud_patched = True


# ---- installation when the framework gets imported ----------------------------------------------

_INTEGRATIONS = {
    "flask": _install_flask,
    "starlette.routing": _install_starlette,
    "django.core.handlers.base": _install_django,
    "celery.signals": _install_celery,
}


class _PostImport:
    """Meta-path finder that installs an integration right after its module is loaded."""

    def __init__(self, status):
        self.status = status
        self.busy = set()

    def find_spec(self, fullname, path, target=None):
        if fullname not in _INTEGRATIONS or fullname in self.busy:
            return None
        self.busy.add(fullname)
        try:
            import importlib.util
            spec = importlib.util.find_spec(fullname)
        finally:
            self.busy.discard(fullname)
        if spec is None or spec.loader is None:
            return None
        loader = spec.loader
        install = _INTEGRATIONS[fullname]
        status = self.status

        class _L:
            def __getattr__(self, name):
                return getattr(loader, name)

            def create_module(self, s):
                return loader.create_module(s)

            def exec_module(self, module):
                loader.exec_module(module)
                try:
                    install(module)
                    status(f"{fullname} integration installed")
                except Exception as e:  # a framework we cannot patch still runs
                    status(f"{fullname} integration failed: {e!r}")

        spec.loader = _L()
        return spec


def install(status):
    for name, fn in _INTEGRATIONS.items():
        mod = sys.modules.get(name)
        if mod is not None:
            try:
                fn(mod)
                status(f"{name} integration installed")
            except Exception as e:
                status(f"{name} integration failed: {e!r}")
    sys.meta_path.insert(0, _PostImport(status))
